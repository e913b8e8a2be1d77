import request from 'supertest';
import type { LimiterKeyState } from '../src/core/rate-limiter/rate-limiter.types';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { PrismaService } from '../src/core/prisma.service';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';
import { QUIET_CRONS } from './support/default-crons';

const ADMIN_TOKEN = 'hold-e2e-admin-token-0123456789abcdef';
const API_KEY = 'hold-e2e-partner-key-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const WINDOW_MS = 60_000;

describe('a 429 whose reset is an hour ahead, in the real app', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp;

  const keyState = async (): Promise<LimiterKeyState> =>
    (
      (await request(t.baseUrl).get('/api/v1/experience/sync/status').expect(200))
        .body as SyncStatus
    ).limiter.keys[0];

  beforeAll(async () => {
    db = await createTestDatabase('inv_hold');
    // The real partner's budget: 30 per minute, so the key is paced about 2 s per call.
    sim = new PartnerSimulator({ rateLimit: 30, windowMs: WINDOW_MS, apiKey: API_KEY });
    const url = await sim.start(0);
    t = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: url,
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '30',
      PARTNER_RATE_WINDOW_MS: String(WINDOW_MS),
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
      ADMIN_TOKEN,
      LEADER_LEASE_MS: '2000',
    });
    await until('the app to hold the sync lease', async () =>
      t.app.get(SchedulerService).isLeader(),
    );
  });

  afterAll(async () => {
    await t?.close();
    await sim?.stop();
    await db?.drop();
  });

  it('holds for at most 2 windows, shows the capped hold in status, and resume clears it', async () => {
    sim.setFaults({ farResetMs: 3_600_000 });
    sim.spendBudget(30); // a foreign consumer spent the key
    const run = await request(t.baseUrl)
      .post('/api/v1/experience/sync/run')
      .set(auth)
      .send({ window: 'quarter-hourly' })
      .expect(202);
    const heldAt = Date.now();
    const held = await until('the hold to show in status', async () => (await keyState()).hold);
    expect(held).toMatchObject({ reason: 'rate_limited', capped: true });
    expect(Date.parse(held.hintedUntil!)).toBeGreaterThan(heldAt + 3_500_000);
    const until2Windows = Date.parse(held.until) - Date.parse(held.since);
    expect(until2Windows).toBeLessThanOrEqual(2 * WINDOW_MS);
    expect(until2Windows).toBeGreaterThan(WINDOW_MS);
    expect(sim.stats().byStatus['429']).toBe(1);

    // The foreign consumer is gone; the operator resumes (syncing was never paused).
    sim.reset();
    await request(t.baseUrl).post('/api/v1/experience/sync/resume').set(auth).expect(200);
    expect((await keyState()).hold).toBeNull();
    const finished = await until(
      'the run to finish',
      async () => {
        const row = await t.app
          .get(PrismaService)
          .syncRun.findUnique({ where: { id: run.body.runId as number } });
        return row && row.outcome !== 'running' ? row : null;
      },
      20_000,
    );
    expect(finished).toMatchObject({ outcome: 'ok', succeeded: 2 });
    expect(Date.now() - heldAt).toBeLessThan(WINDOW_MS);
  });
});
