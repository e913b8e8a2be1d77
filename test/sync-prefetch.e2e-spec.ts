import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, toDbDate, todayIn } from '../src/inventory/calendar';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { QUIET_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';

const API_KEY = 'prefetch-e2e-partner-key-0123456789';
const API_KEY_2 = 'prefetch-e2e-partner-key-second-0123';
/** Two keys instead of PARTNER_API_KEY (an empty variable counts as unset). */
const POOL = { PARTNER_API_KEY: '', PARTNER_API_KEYS: `${API_KEY},${API_KEY_2}` };

/**
 * Not-due product-dates of product 14, by day offset: how old their data is and when they were
 * last tried, as fractions of their horizon's target, and whether idle-time prefetch (from half
 * of the target) should take them. The crons never fire in this suite, so the targets are a year
 * long (read from status), and no tick can mark anything while it runs.
 */
const ROWS: Array<{ day: number; success: number; attempt?: number; taken: boolean }> = [
  { day: 1, success: 0.75, taken: true },
  { day: 2, success: 0.25, taken: false },
  { day: 3, success: 0.875, attempt: 0.04, taken: false }, // failed a moment ago: not retried
  { day: 10, success: 0.54, taken: true },
  { day: 40, success: 0.29, taken: false },
];

describe('idle-time prefetch (SYNC_PREFETCH) in the real app against the simulator', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp | undefined;

  const boot = async (extra: Record<string, string>): Promise<TestApp> => {
    const app = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '100',
      PARTNER_RATE_WINDOW_MS: '1000',
      SYNC_PRODUCT_IDS: '14',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
      LEADER_LEASE_MS: '2000',
      ...extra,
    });
    await until('the app to hold the sync lease', async () =>
      app.app.get(SchedulerService).isLeader(),
    );
    return app;
  };
  const prisma = (): PrismaService => t!.app.get(PrismaService);
  const calls = (date: string): number => sim.stats().perProductDate[`14:${date}`] ?? 0;

  /** Seeds the rows above (nothing due) and returns their dates. */
  const seed = async (status: SyncStatus): Promise<string[]> => {
    const today = todayIn(t!.config.sync.timeZone);
    const now = Date.now();
    const targetMs = (day: number): number =>
      1000 * status.horizons.find((h) => day >= h.fromDay && day <= h.toDay)!.targetSeconds;
    const dates = ROWS.map((r) => addDays(today, r.day));
    await prisma().productDateSync.createMany({
      data: ROWS.map((r, i) => ({
        productId: 14,
        date: toDbDate(dates[i]),
        lastSuccessAt: new Date(now - r.success * targetMs(r.day)),
        lastAttemptAt: new Date(now - (r.attempt ?? r.success) * targetMs(r.day)),
        lastOutcome: r.attempt ? 'server_error' : 'unchanged',
      })),
    });
    return dates;
  };

  beforeEach(async () => {
    db = await createTestDatabase('inv_prefetch');
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: [API_KEY, API_KEY_2] });
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
    await sim.stop();
    await db.drop();
  });

  it.each([
    ['SYNC_PREFETCH=true, one key', { SYNC_PREFETCH: 'true' }, 'true'],
    ['the default (auto) with two keys', POOL, 'auto'],
  ])(
    '%s: takes idle turns for the not-due dates past half their target, once each, and marks nothing due',
    async (_what, env, setting) => {
      t = await boot(env);
      const status = (await request(t.baseUrl).get('/api/v1/experience/sync/status').expect(200))
        .body as SyncStatus;
      expect(status.prefetch).toEqual({ enabled: true, setting, minFraction: 0.5 });

      const dates = await seed(status);
      const taken = dates.filter((_, i) => ROWS[i].taken);
      await until('the stale dates to be fetched', async () => taken.every((d) => calls(d) === 1));
      // Two more dispatcher polls: the fetched dates are fresh now, the others stay below the line.
      await new Promise((r) => setTimeout(r, 2500));
      expect(dates.map(calls)).toEqual(ROWS.map((r) => (r.taken ? 1 : 0)));
      const rows = await prisma().productDateSync.findMany({
        where: { productId: 14 },
        orderBy: { date: 'asc' },
      });
      expect(rows.map((r) => r.dueSince)).toEqual(ROWS.map(() => null));
      for (const [i, row] of rows.entries()) {
        const fresh = Date.now() - (row.lastSuccessAt?.getTime() ?? 0) < 60_000;
        expect([dates[i], fresh]).toEqual([dates[i], ROWS[i].taken]);
      }
    },
  );

  it.each([
    ['the default (auto) with one key', {}, 'auto'],
    ['SYNC_PREFETCH=false with two keys', { ...POOL, SYNC_PREFETCH: 'false' }, 'false'],
  ])('%s: off, so with nothing due there is no partner call', async (_what, env, setting) => {
    t = await boot(env);
    const status = (await request(t.baseUrl).get('/api/v1/experience/sync/status').expect(200))
      .body as SyncStatus;
    expect(status.prefetch).toMatchObject({ enabled: false, setting });
    const dates = await seed(status);
    await new Promise((r) => setTimeout(r, 3000));
    expect(dates.map(calls)).toEqual(ROWS.map(() => 0));
    expect(sim.stats().total).toBe(0);
  });
});
