import type { INestApplication } from '@nestjs/common';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import { PrismaService } from '../src/core/prisma.service';
import { keyFingerprint } from '../src/core/rate-limiter/partner-keys';
import type { LimiterState } from '../src/core/rate-limiter/rate-limiter.types';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { AppLogger } from '../src/ops/app-logger';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import { QUIET_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { runServiceToExit } from './support/service-process';
import { until } from './support/until';

const ADMIN_TOKEN = 'keys-e2e-admin-token-0123456789abcdef';
const KEYS = ['sk_live_first_partner_key_4f1d2a', 'sk_live_second_partner_key_9c3b7e'];
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe('two partner keys in the real app (PARTNER_API_KEYS, simulator over HTTP)', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let app: INestApplication;
  let baseUrl: string;
  let lines = '';
  const bodies: string[] = [];

  const status = async (): Promise<SyncStatus> => {
    const res = await request(baseUrl).get('/api/v1/experience/sync/status').expect(200);
    bodies.push(res.text);
    return res.body as SyncStatus;
  };
  const limiter = async (): Promise<LimiterState> => (await status()).limiter;

  /** Runs the four-hourly window (14 product-dates of products 14 and 15) and waits for its end. */
  const runWindow = async () => {
    const run = await request(baseUrl)
      .post('/api/v1/experience/sync/run')
      .set(auth)
      .send({ window: 'four-hourly' })
      .expect(202);
    bodies.push(run.text);
    return until(
      'the run to finish',
      async () => {
        const row = await app
          .get(PrismaService)
          .syncRun.findUnique({ where: { id: run.body.runId as number } });
        return row && row.outcome !== 'running' ? row : null;
      },
      30_000,
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase('inv_partner_keys');
    sim = new PartnerSimulator({ rateLimit: 5, windowMs: 1000, apiKey: KEYS });
    const url = await sim.start(0);
    const config = loadConfig(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        PARTNER_API_URL: url,
        PARTNER_API_KEYS: KEYS.join(' , '),
        PARTNER_RATE_LIMIT: '5',
        PARTNER_RATE_WINDOW_MS: '1000',
        SYNC_PRODUCT_IDS: '14,15',
        SYNC_ON_BOOT: 'false',
        ...QUIET_CRONS,
        ADMIN_TOKEN,
        LEADER_LEASE_MS: '2000',
      },
      'production',
    );
    // Every line at debug; no secrets given to the logger, so its scrubber is not what keeps the
    // keys out.
    const logger = new AppLogger({
      level: 'debug',
      format: 'json',
      secrets: [],
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines += chunk.toString();
          done();
        },
      }),
    });
    app = await createApp(config, logger);
    await app.listen(0, '127.0.0.1');
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    await until('the app to hold the sync lease', async () => app.get(SchedulerService).isLeader());
  });

  afterAll(async () => {
    await app?.close();
    await sim?.stop();
    await db?.drop();
  });

  it('names both keys in status by number and fingerprint, with the sum of their budgets', async () => {
    const s = await status();
    expect(s.limiter.limit).toBe(10);
    expect(s.limiter.keys.map((k) => [k.name, k.fingerprint, k.limit])).toEqual([
      ['key #1', keyFingerprint(KEYS[0]), 5],
      ['key #2', keyFingerprint(KEYS[1]), 5],
    ]);
    expect(s.capacity.callsPerDayAllowed).toBe(2 * 5 * 86_400);
  });

  it('a 401 on one key takes it out of rotation while the other does the run, and status says which', async () => {
    sim.setFaults({ rejectKeys: [0] });
    const finished = await runWindow();
    expect(finished).toMatchObject({ outcome: 'ok', succeeded: 14 });
    const [first, second] = sim.stats().keys;
    expect(first.byStatus).toEqual({ '401': 1 });
    expect(second.byStatus).toEqual({ '200': 14 });
    const keys = (await limiter()).keys;
    expect(keys.map((k) => [k.name, k.state, k.rejectedStatus])).toEqual([
      ['key #1', 'rejected', 401],
      ['key #2', 'active', null],
    ]);
    // Logged once, at error, by name and fingerprint.
    const rejected = lines.split('\n').filter((l) => l.includes('rejected an API key'));
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0])).toMatchObject({
      level: 'error',
      key: 'key #1',
      fingerprint: keyFingerprint(KEYS[0]),
      status: 401,
    });
  });

  it('a 429 storm on one key holds only that key; the other key carries the run', async () => {
    sim.reset();
    // Resume is the operator's word that the keys are usable again: key #1 is probed at once.
    await request(baseUrl).post('/api/v1/experience/sync/resume').set(auth).expect(200);
    sim.spendBudget(5, 0);
    const storm = setInterval(() => sim.spendBudget(5, 0), 100);
    const seenStates = new Set<string>();
    const watch = setInterval(() => {
      void limiter().then((l) => seenStates.add(l.keys.map((k) => k.state).join(',')));
    }, 100);
    try {
      const finished = await runWindow();
      expect(finished).toMatchObject({ outcome: 'ok', succeeded: 14 });
    } finally {
      clearInterval(storm);
      clearInterval(watch);
    }
    const [first, second] = sim.stats().keys;
    expect(first.byStatus['200'] ?? 0).toBe(0);
    expect(first.byStatus['429']).toBeGreaterThanOrEqual(1);
    expect(second.byStatus).toEqual({ '200': 14 });
    // Key #1 was seen held while key #2 took calls; key #2 was never held.
    expect([...seenStates].some((s) => s.startsWith('held,'))).toBe(true);
    expect([...seenStates].every((s) => !s.endsWith(',held'))).toBe(true);
    const metrics = await request(baseUrl).get('/metrics').expect(200);
    bodies.push(metrics.text);
    expect(metrics.text).toMatch(/partner_calls_total\{outcome="rate_limited",key="key #1"\} \d+/);
    expect(metrics.text).toMatch(/partner_calls_total\{outcome="ok",key="key #2"\} 28/);
  });

  it('shows neither key in any log line or response', async () => {
    await status();
    expect(lines).toContain('partner rate limit hit; holding the key');
    expect(lines.length).toBeGreaterThan(1000);
    for (const key of KEYS) {
      expect(lines).not.toContain(key);
      for (const body of bodies) expect(body).not.toContain(key);
    }
  });
});

describe('a bad PARTNER_API_KEYS, in the real process', () => {
  it.each([
    ['an empty entry', 'sk_first_secret_aaaa,,sk_second_secret_bbbb'],
    ['a duplicate', 'sk_first_secret_aaaa, sk_first_secret_aaaa'],
  ])('exits 1 with one line naming the variable for %s, and never the key', async (_what, keys) => {
    const { code, output } = await runServiceToExit({ PARTNER_API_KEYS: keys });
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PARTNER_API_KEYS /);
    expect(output).not.toContain('secret');
  });
});
