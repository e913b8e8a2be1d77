import { PrismaService } from '../src/core/prisma.service';
import { RateLimiterService } from '../src/core/rate-limiter.service';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { MetricsService } from '../src/ops/metrics.service';
import { ShutdownCoordinator } from '../src/ops/shutdown-coordinator';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';

const API_KEY = 'ops-shutdown-partner-key-0123456789';
const NEVER = '0 0 1 1 *'; // 1 January only: the runs are started by the tests themselves

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

describe('a sync run cut short by shutdown: the row and the metric agree', () => {
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
      SYNC_CRON_DAILY: NEVER,
      SYNC_CRON_FOUR_HOURLY: NEVER,
      SYNC_CRON_QUARTER_HOURLY: NEVER,
      SYNC_CRON_EXTENDED: NEVER,
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

  it('records a run the drain cut short as interrupted in sync_runs and in sync_runs_total, nothing else', async () => {
    sim.setFaults({ latencyMs: 200 });
    t = await boot(5000);
    const runId = await startRun(t);

    const report = await t.app.get(ShutdownCoordinator).prepare('SIGTERM');

    const run = await t.app.get(PrismaService).syncRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run.outcome).toBe('interrupted');
    expect(run.error).toMatch(/^stopped by SIGTERM before the run finished; \d+ not attempted/);
    expect(run.finishedAt).not.toBeNull();
    expect(report).toMatchObject({ signal: 'SIGTERM', drained: true, interruptedRuns: 1 });
    expect(await runsCounted(t, 'daily')).toEqual({ interrupted: 1 });
  });

  it('closes a run still going at the shutdown deadline once, and the run ending later does not count itself again', async () => {
    // Each partner answer takes longer than the whole shutdown allowance.
    sim.setFaults({ latencyMs: 1500 });
    t = await boot(300);
    const runId = await startRun(t);
    const scheduler = t.app.get(SchedulerService);

    const report = await t.app.get(ShutdownCoordinator).prepare('SIGTERM');
    expect(report).toMatchObject({ drained: false, interruptedRuns: 1 });
    // The coordinator recorded it while the engine still ran it.
    expect(scheduler.isRunning('daily')).toBe(true);
    const prisma = t.app.get(PrismaService);
    const closed = await prisma.syncRun.findUniqueOrThrow({ where: { id: runId } });
    expect(closed).toMatchObject({
      outcome: 'interrupted',
      error: 'stopped by SIGTERM before the run finished',
    });
    expect(await runsCounted(t, 'daily')).toEqual({ interrupted: 1 });

    await until('the engine to finish the run', () => !scheduler.isRunning('daily'));
    expect(await prisma.syncRun.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
      outcome: 'interrupted',
      error: 'stopped by SIGTERM before the run finished',
    });
    expect(await runsCounted(t, 'daily')).toEqual({ interrupted: 1 });
  });
});
