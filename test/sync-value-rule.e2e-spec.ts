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

const API_KEY = 'value-rule-e2e-partner-key-0123456789';
const HOUR = 3_600_000;

/**
 * The value rule in the real app against the simulator (issue 26): what is read and what
 * changes decides which product-date the spare budget refreshes, and SYNC_BUDGET_SHARE bounds it.
 * The crons never fire here (a year-long target), so no floor forces anything and every call is
 * the value's choice.
 */
describe('the value rule orders the work (real app, simulator over HTTP)', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp | undefined;

  const boot = async (env: Record<string, string>, limit = 100): Promise<TestApp> => {
    const app = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: String(limit),
      PARTNER_RATE_WINDOW_MS: limit === 100 ? '1000' : '60000',
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'false',
      READ_DEMAND_FLUSH_MS: '100',
      LEADER_LEASE_MS: '2000',
      ...QUIET_CRONS,
      ...env,
    });
    await until('the app to hold the sync lease', async () =>
      app.app.get(SchedulerService).isLeader(),
    );
    return app;
  };
  const prisma = (): PrismaService => t!.app.get(PrismaService);
  const calls = (productId: number, date: string): number =>
    sim.stats().perProductDate[`${productId}:${date}`] ?? 0;
  const status = async (): Promise<SyncStatus> =>
    (await request(t!.baseUrl).get('/api/v1/experience/sync/status').expect(200))
      .body as SyncStatus;

  /** Rows synced an hour ago, not due, with their own change statistics (default: none). */
  const seed = async (
    rows: Array<{ productId: number; date: string; changed?: number; unchanged?: number }>,
  ): Promise<void> => {
    const at = new Date(Date.now() - HOUR);
    await prisma().productDateSync.createMany({
      data: rows.map((r) => ({
        productId: r.productId,
        date: toDbDate(r.date),
        lastSuccessAt: at,
        lastAttemptAt: at,
        dataFetchedAt: at,
        lastOutcome: 'unchanged',
        // Observations of an hour each: `changed` of them saw a change.
        obsChanged: r.changed ?? 0,
        obsChangedSeconds: (r.changed ?? 0) * 3600,
        obsUnchanged: r.unchanged ?? 0,
        obsUnchangedSeconds: (r.unchanged ?? 0) * 3600,
      })),
    });
  };
  const read = async (productId: number, date: string, times: number): Promise<void> => {
    for (let i = 0; i < times; i++) {
      await request(t!.baseUrl)
        .get(`/api/v1/experience/${productId}/slots?date=${date}`)
        .expect(200);
    }
  };

  beforeEach(async () => {
    db = await createTestDatabase('inv_value_rule');
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
    await sim.stop();
    await db.drop();
  });

  it('spends the spare budget on the product-date that is read, not on the one nobody reads', async () => {
    t = await boot({});
    const date = addDays(todayIn(t.config.sync.timeZone), 1);
    await seed([
      { productId: 14, date },
      { productId: 15, date },
    ]);
    expect(sim.stats().total).toBe(0);
    await read(15, date, 20);
    await until('the read date to be refreshed', async () => calls(15, date) >= 1, 30_000);
    const s = await status();
    expect(s.plan.budgetShare).toBe(0.9);
    expect(s.plan.rankedAt).not.toBeNull();
    // Nobody read product 14's date and nothing marked it: no call bought anything there.
    expect(calls(14, date)).toBe(0);
    // And stored: the read date's data is new.
    await until('the refreshed answer to be stored', async () => {
      const row = await prisma().productDateSync.findUniqueOrThrow({
        where: { productId_date: { productId: 15, date: toDbDate(date) } },
      });
      return Date.now() - row.lastSuccessAt!.getTime() < HOUR / 2;
    });
  });

  it('SYNC_BUDGET_SHARE=0: the same reads buy no call (only floors and manual runs spend)', async () => {
    t = await boot({ SYNC_BUDGET_SHARE: '0' });
    const date = addDays(todayIn(t.config.sync.timeZone), 1);
    await seed([{ productId: 15, date }]);
    await read(15, date, 20);
    // The reads are flushed within 100 ms and ranked at the next rank (at most 5 s when the
    // lists are used up): wait past both, twice.
    await until('the reads to be flushed', async () => (await prisma().readDemand.count()) > 0);
    await new Promise((r) => setTimeout(r, 11_000));
    expect(sim.stats().total).toBe(0);
    expect((await status()).plan.budgetShare).toBe(0);
  });

  it('of two dates read alike, refreshes first the one whose syncs saw changes', async () => {
    // One spare call a minute (share 0.9 of 2), so the first call is the rule's first choice.
    sim = new PartnerSimulator({ rateLimit: 2, windowMs: 60_000, apiKey: API_KEY });
    t = await boot({}, 2);
    const today = todayIn(t.config.sync.timeZone);
    const [calm, moving] = [addDays(today, 2), addDays(today, 3)];
    await seed([
      { productId: 14, date: calm, unchanged: 20 },
      { productId: 14, date: moving, changed: 10, unchanged: 10 },
    ]);
    // The same reads on both, in alternation so neither is read later.
    for (let i = 0; i < 10; i++) {
      await read(14, calm, 1);
      await read(14, moving, 1);
    }
    await until('one spare call', async () => sim.stats().total >= 1, 40_000);
    expect([calls(14, moving), calls(14, calm)]).toEqual([1, 0]);
  });
});
