import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, toDbDate, todayIn } from '../src/inventory/calendar';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import type { SyncPolicy } from '../src/inventory/policy/sync-policy';
import { SYNC_POLICY } from '../src/inventory/policy/sync-policy.provider';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { QUIET_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';

const ADMIN_TOKEN = 'hung-e2e-admin-token-0123456789abcdef';
const API_KEY = 'hung-e2e-partner-key-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
/** The four-hourly window: today .. +6. */
const DAYS = 7;

/**
 * The partner answers product 14 with its headers and then one byte every 2 s, forever (the
 * simulator's trickleProducts); product 15 answers normally. A compressed budget (10 calls per
 * second) keeps the suite short.
 */
describe('a product the partner hangs on starves nobody (real app, simulator over HTTP)', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp | undefined;

  const boot = async (timeoutMs: number): Promise<TestApp> => {
    const app = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '10',
      PARTNER_RATE_WINDOW_MS: '1000',
      PARTNER_TIMEOUT_MS: String(timeoutMs),
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
      ADMIN_TOKEN,
      LEADER_LEASE_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '500',
    });
    await until('the app to hold the sync lease', async () =>
      app.app.get(SchedulerService).isLeader(),
    );
    return app;
  };
  const prisma = (): PrismaService => t!.app.get(PrismaService);
  const stored = (productId: number): Promise<number> =>
    prisma().productDateSync.count({ where: { productId, lastSuccessAt: { not: null } } });
  const status = async (): Promise<SyncStatus> =>
    (await request(t!.baseUrl).get('/api/v1/experience/sync/status').expect(200))
      .body as SyncStatus;
  const runFourHourly = () =>
    request(t!.baseUrl)
      .post('/api/v1/experience/sync/run')
      .set(auth)
      .send({ window: 'four-hourly' })
      .expect(202);
  const requestsOf = (productId: number): number =>
    Object.entries(sim.stats().perProductDate)
      .filter(([k]) => k.startsWith(`${productId}:`))
      .reduce((n, [, v]) => n + v, 0);

  beforeEach(async () => {
    db = await createTestDatabase('inv_hung');
    sim = new PartnerSimulator({ rateLimit: 10, windowMs: 1000, apiKey: API_KEY });
    sim.setFaults({ trickleProducts: [14], trickleIntervalMs: 2000 });
  });

  afterEach(async () => {
    // The hung calls end with the simulator's sockets, not at their deadline.
    await sim.stop();
    await t?.close();
    t = undefined;
    await db.drop();
  });

  it("syncs every date of the healthy product while all of the hung product's calls are in flight", async () => {
    // A deadline far longer than the test: nothing of product 14 can end while it runs.
    t = await boot(60_000);
    await runFourHourly();
    await until(`product 15's ${DAYS} dates to be stored`, async () => (await stored(15)) === DAYS);
    // Each of product 14's dates was sent (the budget allowed them) and none has ended: its calls
    // were in flight the whole time product 15's were made.
    expect(requestsOf(14)).toBe(DAYS);
    expect(requestsOf(15)).toBe(DAYS);
    expect(
      await prisma().productDateSync.count({
        where: { productId: 14, lastAttemptAt: { not: null } },
      }),
    ).toBe(0);
    expect((await status()).limiter.running).toBe(DAYS);
  });

  it('backs off the product whose calls time out; status and the metric show it', async () => {
    t = await boot(1000);
    await runFourHourly();
    const status14 = await until('product 14 to show as backing off', async () =>
      (await status()).due.productsBackingOff.find((p) => p.productId === 14),
    );
    expect(status14.consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect(status14.lastOutcome).toBe('timeout');
    expect(Date.parse(status14.nextProbeAt!)).toBeGreaterThan(Date.parse(status14.since));
    await until('product 15 to be stored', async () => (await stored(15)) === DAYS);
    const s = await status();
    expect(s.due.productsBackingOff.map((p) => p.productId)).toEqual([14]);
    const metrics = await request(t.baseUrl).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^inventory_sync_products_backing_off 1$/m);
  });

  it("takes a backing-off product's dates one at a time, once its wait is over, behind the healthy ones", async () => {
    t = await boot(1000);
    await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
    const today = todayIn('UTC');
    const now = Date.now();
    // Product 14's dates are the most overdue, but 14 is backing off; 15's are barely due.
    await prisma().productDateSync.createMany({
      data: [0, 1, 2].flatMap((day) => [
        {
          productId: 14,
          date: toDbDate(addDays(today, day)),
          lastSuccessAt: new Date(now - 10 * 86_400_000),
          dueSince: new Date(now),
          dueWindow: 'test',
          targetSeconds: 900,
        },
        {
          productId: 15,
          date: toDbDate(addDays(today, day)),
          lastSuccessAt: new Date(now - 1000),
          dueSince: new Date(now),
          dueWindow: 'test',
          targetSeconds: 900,
        },
      ]),
    });
    const repo = t.app.get(DueListRepository);
    const next = async (exclude: string[] = []): Promise<string[]> =>
      (
        await repo.nextDue({
          limit: 10,
          productIds: [14, 15],
          from: today,
          to: addDays(today, 59),
          policy: t!.app.get<SyncPolicy>(SYNC_POLICY),
          exclude,
        })
      ).map((e) => `${e.productId}:${e.date}`);
    const d = (day: number): string => addDays(today, day);
    const products = async (exclude: string[] = []): Promise<number[]> =>
      (await next(exclude)).map((k) => Number(k.split(':')[0]));
    expect(await products()).toEqual([14, 14, 14, 15, 15, 15]);

    // Three failures in a row across its dates: backing off, its wait not over yet.
    for (const day of [0, 1, 2]) {
      await prisma().$transaction((tx) =>
        repo.recordFailureInTransaction(tx, {
          productId: 14,
          date: toDbDate(d(day)),
          attemptAt: new Date(),
          outcome: 'timeout',
          error: 'no answer within 1000 ms',
        }),
      );
    }
    await prisma().productDateSync.updateMany({
      where: { productId: 14 },
      data: { nextAttemptAt: null }, // the dates' own backoff is over; only the product's holds
    });
    expect(await next()).toEqual([0, 1, 2].map((n) => `15:${d(n)}`));

    // Its wait is over: one probe, behind the healthy dates, and none while one is in flight.
    await prisma().productSyncBackoff.update({
      where: { productId: 14 },
      data: {
        lastFailureAt: new Date(Date.now() - 31_000),
        nextProbeAt: new Date(Date.now() - 1000),
      },
    });
    const withProbe = await next();
    expect(withProbe.map((k) => Number(k.split(':')[0]))).toEqual([15, 15, 15, 14]);
    expect(await products([withProbe[3]])).toEqual([15, 15, 15]);
    expect((await status()).due.productsBackingOff).toEqual([
      expect.objectContaining({ productId: 14, consecutiveFailures: 3, lastOutcome: 'timeout' }),
    ]);

    // A success of any of its dates ends the backoff: all its dates rank by urgency again.
    await prisma().$transaction((tx) =>
      repo.recordSuccessInTransaction(tx, {
        productId: 14,
        dbDate: toDbDate(d(5)),
        attemptAt: new Date(),
        known: true,
        contentHash: 'x',
        slotCount: 0,
      }),
    );
    expect(await products()).toEqual([14, 14, 14, 15, 15, 15]);
    expect((await status()).due.productsBackingOff).toEqual([]);
  });
});
