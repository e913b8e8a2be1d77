import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';
import { QUIET_CRONS } from './support/default-crons';

const ADMIN_TOKEN = 'stall-e2e-admin-token-0123456789abcdef';
const API_KEY = 'stall-e2e-partner-key-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe('a run that makes no progress, in the real app', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp;

  const status = async (): Promise<SyncStatus> =>
    (await request(t.baseUrl).get('/api/v1/experience/sync/status').expect(200)).body as SyncStatus;
  const quarterHourly = async () =>
    (await status()).windows.find((w) => w.window === 'quarter-hourly')!;

  beforeAll(async () => {
    db = await createTestDatabase('inv_stall');
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
    const url = await sim.start(0);
    t = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: url,
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '100',
      PARTNER_RATE_WINDOW_MS: '1000',
      // Calls that hang far longer than the stall threshold: the run cannot finish anything.
      PARTNER_TIMEOUT_MS: '6000',
      SYNC_STALL_AFTER_MS: '1500',
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

  it('is flagged stalled in status and metrics once nothing finished for SYNC_STALL_AFTER_MS, and clears when it moves again', async () => {
    sim.setFaults({ timeoutNext: 2 }); // both product-dates' first calls are never answered
    const run = await request(t.baseUrl)
      .post('/api/v1/experience/sync/run')
      .set(auth)
      .send({ window: 'quarter-hourly' })
      .expect(202);
    const early = await quarterHourly();
    expect(early.progress).toMatchObject({ runId: run.body.runId, pending: 2, stalled: false });

    const stalled = await until('the run to be flagged stalled', async () => {
      const w = await quarterHourly();
      return w.progress?.stalled ? w : null;
    });
    expect(stalled.running).toBe(true);
    expect(Date.now() - Date.parse(stalled.progress!.lastProgressAt)).toBeGreaterThan(1500);
    const metrics = (await request(t.baseUrl).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/inventory_sync_sync_run_stalled\{window="quarter-hourly"\} 1/);
    expect(metrics).toMatch(/inventory_sync_sync_run_stalled\{window="daily"\} 0/);

    // A tick meanwhile marks again and records its own run; the stalled one keeps its flag.
    const at = new Date(Date.UTC(2031, 0, 1, 0, 15));
    await t.app.get(SchedulerService).tick('quarter-hourly', at);
    const second = await t.app
      .get(PrismaService)
      .syncRun.findUniqueOrThrow({ where: { occurrence: `quarter-hourly@${at.toISOString()}` } });
    expect(second.outcome).toBe('running');
    expect((await quarterHourly()).progress).toMatchObject({
      runId: run.body.runId,
      stalled: true,
    });

    // The calls reach their deadline and fail (the limiter retries nothing; the due list takes them
    // again after its backoff): the run finishes and is no longer flagged.
    const done = await until(
      'the run to finish',
      async () => {
        const row = await t.app
          .get(PrismaService)
          .syncRun.findUnique({ where: { id: run.body.runId as number } });
        return row && row.outcome !== 'running' ? row : null;
      },
      30_000,
    );
    expect(done).toMatchObject({ outcome: 'failed', failed: 2 });
    // The second run waits for those product-dates' next attempt, after the 30 s failure backoff.
    await until(
      'the second run to finish too',
      async () => {
        const row = await t.app.get(PrismaService).syncRun.findUnique({ where: { id: second.id } });
        return row && row.outcome !== 'running' ? row : null;
      },
      45_000,
    );
    await until('the progress to clear', async () => (await quarterHourly()).progress === null);
    const after = (await request(t.baseUrl).get('/metrics').expect(200)).text;
    expect(after).toMatch(/inventory_sync_sync_run_stalled\{window="quarter-hourly"\} 0/);
  });
});
