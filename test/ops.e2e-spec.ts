import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { Client } from 'pg';
import { PrismaService } from '../src/core/prisma.service';
import { migrate } from '../src/core/database/migrator';
import { SyncControlService } from '../src/inventory/control/sync-control.service';
import { InventoryEvents } from '../src/inventory/inventory-events';
import {
  createTestDatabase,
  databaseUrl,
  ADMIN_DATABASE_URL,
  type TestDatabase,
} from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { QUIET_CRONS } from './support/default-crons';
import { until } from './support/until';
import { startRedisServer } from './cluster-support/redis-server';

/** Parses Prometheus text into samples: name, labels, value. */
function samples(
  text: string,
): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

async function adminQuery(sql: string): Promise<void> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function pollStatus(
  url: string,
  path: string,
  want: number,
  timeoutMs = 20000,
): Promise<request.Response> {
  let last: request.Response | undefined;
  return until(
    () => `${path} to answer ${want} (it answered ${last?.status} ${JSON.stringify(last?.body)})`,
    async () => {
      last = await request(url).get(path);
      return last.status === want && last;
    },
    timeoutMs,
    200,
  );
}

describe('operations endpoints (in-process app on PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('inv_ops');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_ON_BOOT: 'false',
      SYNC_PRODUCT_IDS: '14,15',
      // A quarter-hour crossed mid-suite would sync today behind the data gauges' back.
      ...QUIET_CRONS,
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('GET /health/live answers 200 with status ok', async () => {
    const res = await request(t.baseUrl).get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('ignores a trailing slash and keeps paths case-sensitive (a JSON 404)', async () => {
    expect((await request(t.baseUrl).get('/health/live/')).status).toBe(200);
    const other = await request(t.baseUrl).get('/Health/live');
    expect(other.status).toBe(404);
    expect(other.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /Health/live',
    });
  });

  it('GET /health/ready reports database, migrations and scheduler by name, and /health is its alias', async () => {
    const ready = await request(t.baseUrl).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(Object.keys(ready.body.details).sort()).toEqual(['database', 'migrations', 'scheduler']);
    expect(ready.body.details.database).toMatchObject({ status: 'up', kind: 'postgresql' });
    expect(ready.body.details.migrations.status).toBe('up');
    const alias = await request(t.baseUrl).get('/health');
    expect(alias.status).toBe(200);
    expect(alias.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
  });

  it('echoes a sane incoming X-Request-Id and replaces an unsafe one', async () => {
    const kept = await request(t.baseUrl).get('/health/live').set('X-Request-Id', 'lb-7f3a:9');
    expect(kept.headers['x-request-id']).toBe('lb-7f3a:9');
    const replaced = await request(t.baseUrl).get('/health/live').set('X-Request-Id', 'a b"c');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await request(t.baseUrl).get('/health/live');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers['x-request-id']).not.toBe(replaced.headers['x-request-id']);
  });

  it('GET /metrics serves Prometheus text with default metrics under the service prefix', async () => {
    const res = await request(t.baseUrl).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;/);
    expect(res.headers['content-type']).toContain('version=0.0.4');
    const names = new Set(samples(res.text).map((s) => s.name));
    expect(names).toContain('inventory_sync_process_cpu_user_seconds_total');
    expect(names).toContain('inventory_sync_nodejs_heap_size_used_bytes');
    for (const name of names) expect(name).toMatch(/^inventory_sync_/);
  });

  it('labels HTTP durations by route template and never by raw path (ids and dates stay out)', async () => {
    await request(t.baseUrl).get('/health/live');
    await request(t.baseUrl).get('/no-such-route/14/2025-04-03');
    const res = await request(t.baseUrl).get('/metrics');
    const http = samples(res.text).filter(
      (s) => s.name === 'inventory_sync_http_request_duration_seconds_count',
    );
    expect(http).toContainEqual(
      expect.objectContaining({ labels: { method: 'GET', route: '/health/live', status: '200' } }),
    );
    expect(http).toContainEqual(
      expect.objectContaining({ labels: { method: 'GET', route: 'unmatched', status: '404' } }),
    );
    expect(res.text).not.toContain('2025-04-03');
    expect(res.text).not.toContain('no-such-route');
  });

  it('labels a parameterised API route by its template, not by the product id or date asked for', async () => {
    await request(t.baseUrl).get('/api/v1/experience/987654?date=2031-07-19');
    const res = await request(t.baseUrl).get('/metrics');
    const routes = samples(res.text)
      .filter((s) => s.name === 'inventory_sync_http_request_duration_seconds_count')
      .map((s) => s.labels.route);
    expect(routes).toContain('/api/v1/experience/:productId');
    expect(res.text).not.toContain('987654');
    expect(res.text).not.toContain('2031-07-19');
  });

  it('exports sync runs by window and outcome, their duration and the last successful run time', async () => {
    // The runs report through the inventory's events; the metrics listen (no upward import).
    const events = t.app.get(InventoryEvents);
    events.emitSyncRunFinished({
      window: 'daily',
      outcome: 'ok',
      durationSeconds: 12.5,
      finishedAt: new Date('2026-01-02T03:04:05Z'),
    });
    events.emitSyncRunFinished({
      window: 'quarter-hourly',
      outcome: 'partial',
      durationSeconds: 2,
      finishedAt: new Date(),
    });
    const s = samples((await request(t.baseUrl).get('/metrics')).text);
    expect(s).toContainEqual({
      name: 'inventory_sync_sync_runs_total',
      labels: { window: 'daily', outcome: 'ok' },
      value: 1,
    });
    expect(s).toContainEqual({
      name: 'inventory_sync_sync_runs_total',
      labels: { window: 'quarter-hourly', outcome: 'partial' },
      value: 1,
    });
    expect(s).toContainEqual({
      name: 'inventory_sync_sync_run_duration_seconds_sum',
      labels: { window: 'daily' },
      value: 12.5,
    });
    expect(s).toContainEqual({
      name: 'inventory_sync_last_successful_run_timestamp_seconds',
      labels: { window: 'daily' },
      value: Date.parse('2026-01-02T03:04:05Z') / 1000,
    });
    // A partial run is not a success.
    expect(
      s.find(
        (x) =>
          x.name === 'inventory_sync_last_successful_run_timestamp_seconds' &&
          x.labels.window === 'quarter-hourly',
      ),
    ).toBeUndefined();
  });

  it('exports the age of the oldest stored data and the never-synced count per range of dates', async () => {
    const prisma = t.app.get(PrismaService);
    await prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }], skipDuplicates: true });
    const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    await prisma.productDateSync.createMany({
      data: [
        { productId: 14, date: today, lastSuccessAt: tenMinutesAgo },
        { productId: 15, date: today, lastSuccessAt: new Date() },
      ],
    });
    // The data gauges are cached for a few seconds; poll until the new rows show.
    const s = await until(
      'the data-age gauge of today',
      async () => {
        const all = samples((await request(t.baseUrl).get('/metrics')).text);
        return (
          all.some(
            (x) =>
              x.name === 'inventory_sync_oldest_data_age_seconds' && x.labels.range === 'today',
          ) && all
        );
      },
      15000,
      500,
    );
    const age = s.find(
      (x) => x.name === 'inventory_sync_oldest_data_age_seconds' && x.labels.range === 'today',
    );
    expect(age?.value).toBeGreaterThanOrEqual(600);
    expect(age?.value).toBeLessThan(3600);
    const never = Object.fromEntries(
      s
        .filter((x) => x.name === 'inventory_sync_never_synced_product_dates')
        .map((x) => [x.labels.range, x.value]),
    );
    expect(never).toEqual({ today: 0, week: 12, month: 2 * 23, extended: 2 * 30 });
    expect(s).toContainEqual({ name: 'inventory_sync_sync_paused', labels: {}, value: 0 });
    // A single instance without a lease leads.
    expect(s).toContainEqual({ name: 'inventory_sync_leader', labels: {}, value: 1 });
  });

  it('reports migrations down (503) when an applied migration is missing from the database', async () => {
    const prisma = t.app.get(PrismaService);
    const [row] = await prisma.$queryRaw<Array<{ id: string; migration_name: string }>>`
      SELECT id, migration_name FROM "_prisma_migrations" LIMIT 1`;
    await prisma.$executeRaw`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = ${row.id}`;
    try {
      const res = await request(t.baseUrl).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('error');
      expect(res.body.error.migrations).toMatchObject({
        status: 'down',
        pending: [row.migration_name],
      });
      expect(res.body.info.database.status).toBe('up');
    } finally {
      await prisma.$executeRaw`UPDATE "_prisma_migrations" SET rolled_back_at = NULL WHERE id = ${row.id}`;
    }
    expect((await request(t.baseUrl).get('/health/ready')).status).toBe(200);
  });
});

describe('readiness when the database goes away and comes back', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('inv_opsdb');
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('answers 503 naming the database while it is gone, keeps serving, and 200 once it is back', async () => {
    expect((await request(t.baseUrl).get('/health/ready')).status).toBe(200);

    await adminQuery(`DROP DATABASE "${db.name}" WITH (FORCE)`);
    const down = await pollStatus(t.baseUrl, '/health/ready', 503);
    expect(down.body.status).toBe('error');
    expect(down.body.error.database.status).toBe('down');
    expect((await request(t.baseUrl).get('/health')).status).toBe(503);
    // The process keeps serving what does not need the database.
    expect((await request(t.baseUrl).get('/health/live')).status).toBe(200);
    expect((await request(t.baseUrl).get('/metrics')).status).toBe(200);

    await adminQuery(`CREATE DATABASE "${db.name}"`);
    await migrate(databaseUrl(db.name));
    const up = await pollStatus(t.baseUrl, '/health/ready', 200);
    expect(up.body.details.database.status).toBe('up');
  });
});

describe('readiness with Redis configured', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('inv_opsredis');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reports redis up when it answers PING', async () => {
    const redis = await startRedisServer();
    const t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_ON_BOOT: 'false',
      REDIS_URL: redis.url,
    });
    try {
      const res = await until('redis to be up', async () => {
        const r = await request(t.baseUrl).get('/health/ready');
        return r.body.details?.redis?.state === 'up' && r;
      });
      expect(res.status).toBe(200);
      expect(res.body.details.redis).toMatchObject({ status: 'up', state: 'up' });
    } finally {
      await t.close();
      await redis.kill();
    }
  });

  it('stays ready (200) with redis degraded when nothing listens at REDIS_URL, and says so in status and metrics', async () => {
    const t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_ON_BOOT: 'false',
      // Port 9 (discard) is closed on the test machine: connections are refused at once.
      REDIS_URL: 'redis://127.0.0.1:9',
    });
    try {
      const res = await request(t.baseUrl).get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.details.redis).toMatchObject({
        status: 'up',
        state: 'degraded',
        connected: false,
      });
      expect(res.body.details.database.status).toBe('up');
      const status = await request(t.baseUrl).get('/api/v1/experience/sync/status');
      expect(status.body.readCache).toMatchObject({
        mode: 'redis',
        shared: { state: 'degraded', connected: false },
      });
      const metrics = samples((await request(t.baseUrl).get('/metrics')).text);
      expect(metrics.find((m) => m.name === 'inventory_sync_read_cache_redis_up')?.value).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('readiness of the sync scheduler', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('inv_opssched');
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('is up while the window schedules run, down (503) when they stop, and up again as paused when an operator paused syncing', async () => {
    const running = await request(t.baseUrl).get('/health/ready');
    expect(running.status).toBe(200);
    expect(running.body.details.scheduler).toMatchObject({
      status: 'up',
      state: 'running',
      schedules: 4,
      leader: true,
    });

    const registry = t.app.get(SchedulerRegistry, { strict: false });
    const jobs = [...registry.getCronJobs()].filter(([name]) => name.startsWith('sync:'));
    for (const [, job] of jobs) await job.stop();
    const stopped = await request(t.baseUrl).get('/health/ready');
    expect(stopped.status).toBe(503);
    expect(stopped.body.error.scheduler).toMatchObject({ status: 'down', state: 'stopped' });
    expect(stopped.body.error.scheduler.stopped).toHaveLength(4);

    await t.app.get(SyncControlService, { strict: false }).pause('ops-e2e', 'maintenance');
    const paused = await request(t.baseUrl).get('/health/ready');
    expect(paused.status).toBe(200);
    expect(paused.body.details.scheduler).toMatchObject({ status: 'up', state: 'paused' });

    for (const [, job] of jobs) job.start();
  });
});
