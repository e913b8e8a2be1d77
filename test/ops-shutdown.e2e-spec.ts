import { PrismaService } from '../src/core/prisma.service';
import { RateLimiterService } from '../src/core/rate-limiter/rate-limiter.service';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { MetricsService } from '../src/ops/metrics.service';
import { ShutdownCoordinator } from '../src/ops/shutdown-coordinator';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';
import { QUIET_CRONS } from './support/default-crons';

const API_KEY = 'ops-shutdown-partner-key-0123456789';

/** sync_runs_total of one window, by outcome. */
async function runsCounted(t: TestApp, window: string): Promise<Record<string, number>> {
  const metric = t.app
    .get(MetricsService)
    .registry.getSingleMetric('inventory_sync_sync_runs_total');
  const counted: Record<string, number> = {};
  for (const v of (await metric!.get()).values) {
    if (v.labels.window === window) counted[String(v.labels.outcome)] = v.value;
  }
  return counted;
}

describe('a sync run cut short by shutdown stays open, and the next start finishes it', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp | undefined;

  const boot = async (shutdownTimeoutMs: number): Promise<TestApp> => {
    const app = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '4',
      PARTNER_RATE_WINDOW_MS: '1000',
      SYNC_PRODUCT_IDS: '14',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    });
    await until('the app to hold the sync lease', () => app.app.get(SchedulerService).isLeader());
    return app;
  };

  /** Starts the daily window and returns its run id once a partner call is in flight. */
  const startRun = async (app: TestApp): Promise<number> => {
    const { runId } = await app.app.get(SchedulerService).runNow('daily');
    await until('a partner call in flight', () => app.app.get(RateLimiterService).state().running);
    return runId;
  };

  beforeEach(async () => {
    db = await createTestDatabase('inv_opsshut');
    sim = new PartnerSimulator({ rateLimit: 4, windowMs: 1000, apiKey: API_KEY });
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await sim.stop();
    await db.drop();
  });

  const dueCount = (app: TestApp): Promise<number> =>
    app.app.get(PrismaService).productDateSync.count({ where: { dueSince: { not: null } } });

  it('leaves the run running with its product-dates due, counts nothing, and the next start finishes it ok', async () => {
    sim.setFaults({ latencyMs: 200 });
    t = await boot(5000);
    const runId = await startRun(t);

    const report = await t.app.get(ShutdownCoordinator).prepare('SIGTERM');
    expect(report).toMatchObject({ signal: 'SIGTERM', drained: true });

    const prisma = t.app.get(PrismaService);
    const run = await prisma.syncRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ outcome: 'running', finishedAt: null });
    const stored = await prisma.productDateSync.count({ where: { lastSuccessAt: { not: null } } });
    expect(stored).toBeLessThan(30);
    expect(await dueCount(t)).toBe(30 - stored);
    expect(await runsCounted(t, 'daily')).toEqual({});
    await t.close();

    sim.setFaults({ latencyMs: 0 });
    t = await boot(5000);
    const done = await until('the next start to finish the run', async () => {
      const r = await t!.app.get(PrismaService).syncRun.findUniqueOrThrow({ where: { id: runId } });
      return r.outcome !== 'running' ? r : null;
    });
    expect(done).toMatchObject({ outcome: 'ok', planned: 30, succeeded: 30, remaining: 0 });
    expect(await dueCount(t)).toBe(0);
    expect(await runsCounted(t, 'daily')).toEqual({ ok: 1 });
  });

  it('abandons a call still in flight at the deadline without storing it: that product-date stays due', async () => {
    // Each partner answer takes longer than the whole shutdown allowance.
    sim.setFaults({ latencyMs: 1500 });
    t = await boot(300);
    const runId = await startRun(t);

    const report = await t.app.get(ShutdownCoordinator).prepare('SIGTERM');
    expect(report).toMatchObject({ drained: false });
    const prisma = t.app.get(PrismaService);
    expect(await prisma.productDateSync.count({ where: { lastSuccessAt: { not: null } } })).toBe(0);
    expect(await dueCount(t)).toBe(30);
    expect(await prisma.syncRun.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
      outcome: 'running',
    });
    expect(await runsCounted(t, 'daily')).toEqual({});
  });
});
