import http from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import {
  runServiceToExit,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';

const PARTNER_API_KEY = 'pk-live-7f3a9c1e5b2d4a6f';
const ADMIN_TOKEN = 'adm-0123456789abcdef-zz';

async function dropDatabaseNow(name: string): Promise<void> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`log line is not JSON: ${l}`);
      }
    });
}

/** POST whose body is sent `delayMs` after its headers; resolves to the status code. */
function postLate(
  url: string,
  opts: { headers: Record<string, string>; body: string; delayMs: number },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: opts.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => req.end(opts.body), opts.delayMs);
  });
}

describe('the built service as a real process: logs and shutdown', () => {
  let db: TestDatabase;
  let svc: ServiceProcess;
  const env = (): Record<string, string> => ({
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    PARTNER_API_KEY,
    ADMIN_TOKEN,
    // The sync is not under test here: nothing calls the partner.
    PARTNER_API_URL: 'http://127.0.0.1:9',
    SYNC_ON_BOOT: 'false',
    LOG_LEVEL: 'debug',
  });

  beforeAll(async () => {
    db = await createTestDatabase('inv_opsproc', { migrate: false });
  });
  afterEach(async () => {
    await svc?.stop('SIGKILL');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('writes only JSON lines with request ids, never the partner key or admin token, and exits 0 on SIGTERM', async () => {
    svc = await startServiceProcess(env(), []);
    const headers = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'X-Api-Key': PARTNER_API_KEY };
    const ready = await fetch(`${svc.baseUrl}/health/ready`, {
      headers: { ...headers, 'X-Request-Id': 'ops-e2e-ready' },
    });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBe('ops-e2e-ready');
    const missing = await fetch(`${svc.baseUrl}/no-such/${PARTNER_API_KEY}?token=${ADMIN_TOKEN}`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', 'X-Request-Id': 'ops-e2e-404' },
      body: JSON.stringify({ apiKey: PARTNER_API_KEY, adminToken: ADMIN_TOKEN }),
    });
    expect(missing.status).toBe(404);
    // A JSON body is read between the request's first hook and its handler: the lines the
    // handler writes still carry the request's id, even when the body comes on a later socket
    // read (200 ms after the headers).
    const paused = await postLate(`${svc.baseUrl}/api/v1/experience/sync/pause`, {
      headers: { ...headers, 'Content-Type': 'application/json', 'X-Request-Id': 'ops-e2e-pause' },
      body: JSON.stringify({ reason: 'ops e2e' }),
      delayMs: 200,
    });
    expect(paused).toBe(200);

    // A line written while serving a request carries that request's id: the readiness failure.
    await dropDatabaseNow(db.name);
    const notReady = await fetch(`${svc.baseUrl}/health/ready`, {
      headers: { 'X-Request-Id': 'ops-e2e-down' },
    });
    expect(notReady.status).toBe(503);

    await until('the readiness lines', () => svc.output().includes('ops-e2e-down'), 15000, 100);
    expect(await svc.stop('SIGTERM')).toBe(0);

    const output = svc.output();
    expect(output).not.toContain(PARTNER_API_KEY);
    expect(output).not.toContain(ADMIN_TOKEN);
    const lines = jsonLines(output);
    for (const line of lines) {
      expect(line).toEqual(
        expect.objectContaining({
          level: expect.any(String),
          time: expect.any(String),
          msg: expect.any(String),
        }),
      );
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'request',
        requestId: 'ops-e2e-ready',
        method: 'GET',
        route: '/health/ready',
        status: 200,
        durationMs: expect.any(Number),
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'request',
        requestId: 'ops-e2e-404',
        route: 'unmatched',
        status: 404,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'sync paused',
        reason: 'ops e2e',
        requestId: 'ops-e2e-pause',
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'not ready',
        context: 'ReadinessService',
        requestId: 'ops-e2e-down',
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'stopped', signal: 'SIGTERM' }));
    // Lines written outside any request carry no request id.
    expect(lines.find((l) => l.msg === 'listening')).not.toHaveProperty('requestId');
  });

  it('exits at once with a non-zero code when a second signal arrives during shutdown', async () => {
    await dropDatabaseNow(db.name);
    db = await createTestDatabase('inv_opsproc', { migrate: false });
    svc = await startServiceProcess(env(), []);
    // Both signals are pending together; whichever the process handles second ends it at once
    // with 128 + its number (SIGINT 130, SIGTERM 143) instead of the clean 0.
    svc.child.kill('SIGTERM');
    svc.child.kill('SIGINT');
    expect([130, 143]).toContain(await svc.exited);
    expect(svc.output()).toContain('second signal: exiting at once');
  });

  it('SIGTERM during a sync: exits 0, stores no partial product-date and keeps the rest due', async () => {
    await dropDatabaseNow(db.name);
    db = await createTestDatabase('inv_opsproc', { migrate: false });
    // A slow partner with a small budget keeps the boot catch-up going long enough to stop it midway.
    const sim = new PartnerSimulator({ rateLimit: 4, windowMs: 1000, apiKey: PARTNER_API_KEY });
    sim.setFaults({ latencyMs: 250 });
    const simUrl = await sim.start(0);
    try {
      svc = await startServiceProcess(
        {
          ...env(),
          PARTNER_API_URL: simUrl,
          PARTNER_RATE_LIMIT: '4',
          PARTNER_RATE_WINDOW_MS: '1000',
          SYNC_ON_BOOT: 'true',
          SYNC_PRODUCT_IDS: '14,15',
          SHUTDOWN_TIMEOUT_MS: '5000',
        },
        [],
      );
      // Metrics after real partner calls: the call counter by outcome and the limiter gauges.
      let metrics = '';
      await until(
        () => `a successful partner call:\n${metrics}`,
        async () => {
          metrics = await (await fetch(`${svc.baseUrl}/metrics`)).text();
          return /^inventory_sync_partner_calls_total\{outcome="ok",key="key #1"\} [1-9]/m.test(
            metrics,
          );
        },
        20000,
        200,
      );
      expect(metrics).toMatch(
        /^inventory_sync_partner_call_duration_seconds_count\{outcome="ok",key="key #1"\} [1-9]/m,
      );
      expect(metrics).toMatch(/^inventory_sync_due_product_dates\{range="extended"\} [1-9]/m);
      expect(metrics).toMatch(/^inventory_sync_limiter_budget_limit 4$/m);
      expect(metrics).toMatch(/^inventory_sync_partner_breaker_state 0$/m);

      expect(await svc.stop('SIGTERM')).toBe(0);
    } finally {
      await sim.stop();
    }

    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      // What was not fetched before the signal is still due: the next start continues it.
      const due = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM product_date_syncs WHERE due_since IS NOT NULL',
      );
      expect(due.rows[0].n).toBeGreaterThan(0);
      const stored = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM product_date_syncs WHERE last_success_at IS NOT NULL',
      );
      expect(stored.rows[0].n).toBeGreaterThan(0);
      // Each stored product-date has exactly the slots its sync recorded, and each slot its pax.
      const torn = await c.query(`
        SELECT p.product_id, p.date FROM product_date_syncs p
          LEFT JOIN slots s ON s.product_id = p.product_id AND s.date = p.date
         WHERE p.last_success_at IS NOT NULL
         GROUP BY p.product_id, p.date, p.slot_count
        HAVING count(s.id) <> p.slot_count`);
      expect(torn.rows).toEqual([]);
      const orphans = await c.query(`
        SELECT s.id FROM slots s
          LEFT JOIN product_date_syncs p ON p.product_id = s.product_id AND p.date = s.date
         WHERE p.last_success_at IS NULL
            OR NOT EXISTS (SELECT 1 FROM pax_availability x WHERE x.slot_id = s.id)`);
      expect(orphans.rows).toEqual([]);
    } finally {
      await c.end();
    }
  });
});

describe('the built service on a port already in use', () => {
  let db: TestDatabase;
  let blocker: Server;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase('inv_opsport', { migrate: false });
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker?.close(resolve));
    await db?.drop();
  });

  it('exits 1 with one line naming the port, before migrating or taking the sync lease', async () => {
    const { code, output } = await runServiceToExit({
      DATABASE_URL: db.url,
      PARTNER_API_KEY,
      PARTNER_API_URL: 'http://127.0.0.1:9',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    expect(code).toBe(1);
    const lines = output.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([
      `Failed to start: port ${port} on 127.0.0.1 is already in use (PORT=${port}, HOST=127.0.0.1)`,
    ]);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const tables = await c.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables.rows).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('taken between the check and listen: exits 1 naming the port and hands back the sync lease', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const racedPort = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const { code, output } = await runServiceToExit({
      DATABASE_URL: db.url,
      PARTNER_API_KEY,
      PARTNER_API_URL: 'http://127.0.0.1:9',
      PORT: String(racedPort),
      HOST: '127.0.0.1',
      SYNC_ON_BOOT: 'false',
      LOG_LEVEL: 'info',
      NODE_OPTIONS: `--require ${path.join(__dirname, 'support', 'take-port-after-check.cjs')}`,
    });
    expect(code).toBe(1);
    // Its log lines (stdout) and the failure (stderr) come through two pipes, in either order.
    const plain = output.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
    expect(plain).toEqual([
      `Failed to start: port ${racedPort} on 127.0.0.1 is already in use (PORT=${racedPort}, HOST=127.0.0.1)`,
    ]);
    expect(output).not.toContain('"msg":"listening"');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      // It had migrated and taken the lease by then; closing the app released it at once.
      const lease = await c.query<{ released: boolean }>(
        'SELECT expires_at <= now() AS released FROM leader_leases',
      );
      expect(lease.rows).toEqual([{ released: true }]);
    } finally {
      await c.end();
    }
  });
});
