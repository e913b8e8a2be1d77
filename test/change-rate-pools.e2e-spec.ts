import { PrismaService } from '../src/core/prisma.service';
import { addDays, toDbDate, todayIn } from '../src/inventory/calendar';
import { ChangeRatePoolsRepository } from '../src/inventory/learning/change-rate-pools.repository';
import { ChangeRatePoolsService } from '../src/inventory/learning/change-rate-pools.service';
import { ReadDemandRepository } from '../src/inventory/learning/read-demand.repository';
import type { ChangeStats } from '../src/inventory/policy/learned-rates';
import { buildSyncPolicy, horizonForDay } from '../src/inventory/policy/sync-policy';
import { loadConfig } from '../src/config/app-config';
import { Clock } from '../src/common/clock';
import { DatabaseOutageReporter } from '../src/common/database-unavailable';
import { DEFAULT_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date('2026-12-01T00:00:00Z'));
const TODAY = '2026-12-07';
const PRODUCTS = [11, 12, 13];
/** The products with synced dates (13 has none). */
const SYNCED = [11, 12];

/** A deterministic spread of sums: product p's date at day offset d. */
const statsOf = (p: number, d: number): ChangeStats => ({
  changed: ((p * 7 + d * 3) % 5) * 0.5,
  changedSeconds: ((p * 11 + d * 13) % 17) * 600,
  unchanged: ((p + d) % 4) * 0.75,
  unchangedSeconds: ((p * 5 + d) % 9) * 900,
});

class NoOutage extends DatabaseOutageReporter {
  report(): boolean {
    return false;
  }
}

describe('change rate pools refreshed from the product-dates, on the real PostgreSQL', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let pools: ChangeRatePoolsRepository;

  /** Pools as the TypeScript sums them: per product and horizon, days counted from `today`. */
  const expected = (productIds: number[], today: string, days: number[]) => {
    const out = new Map<string, ChangeStats>();
    for (const p of productIds) {
      for (const h of policy.horizons) {
        out.set(`${p}:${h.name}`, {
          changed: 0,
          changedSeconds: 0,
          unchanged: 0,
          unchangedSeconds: 0,
        });
      }
      for (const d of SYNCED.includes(p) ? days : []) {
        const offset = Math.round((Date.parse(addDays(TODAY, d)) - Date.parse(today)) / 86_400_000);
        if (offset < 0 || offset > policy.lastDay) continue;
        const sum = out.get(`${p}:${horizonForDay(policy, offset).name}`)!;
        const s = statsOf(p, d);
        sum.changed += s.changed;
        sum.changedSeconds += s.changedSeconds;
        sum.unchanged += s.unchanged;
        sum.unchangedSeconds += s.unchangedSeconds;
      }
    }
    return out;
  };

  const expectPools = async (want: Map<string, ChangeStats>) => {
    const rows = await pools.all();
    expect(rows.map((r) => `${r.productId}:${r.horizon}`).sort()).toEqual([...want.keys()].sort());
    for (const r of rows) {
      const w = want.get(`${r.productId}:${r.horizon}`)!;
      expect(r.changed).toBeCloseTo(w.changed, 9);
      expect(r.changedSeconds).toBeCloseTo(w.changedSeconds, 6);
      expect(r.unchanged).toBeCloseTo(w.unchanged, 9);
      expect(r.unchangedSeconds).toBeCloseTo(w.unchangedSeconds, 6);
    }
  };

  // Product 13 has no synced dates at all; 11 and 12 have days 0..59 and a day outside (60).
  const days = [...Array.from({ length: policy.lastDay + 2 }, (_, d) => d)];

  beforeAll(async () => {
    db = await createTestDatabase('inv_pools');
    prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.createMany({ data: [...PRODUCTS, 99].map((id) => ({ id })) });
    await prisma.productDateSync.createMany({
      data: SYNCED.flatMap((p) =>
        days.map((d) => {
          const s = statsOf(p, d);
          return {
            productId: p,
            date: toDbDate(addDays(TODAY, d)),
            obsChanged: s.changed,
            obsChangedSeconds: s.changedSeconds,
            obsUnchanged: s.unchanged,
            obsUnchangedSeconds: s.unchangedSeconds,
          };
        }),
      ),
    });
    pools = new ChangeRatePoolsRepository(prisma);
  });

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  it('sums each product’s dates per horizon counted from today, a zero row where it has none', async () => {
    // A pool of a product no longer configured, left from before: deleted.
    await prisma.changeRatePool.create({
      data: { productId: 99, horizon: 'week', changed: 5, updatedAt: new Date() },
    });
    const written = await pools.refresh({ productIds: PRODUCTS, today: TODAY, policy });
    expect(written).toBe(PRODUCTS.length * policy.horizons.length);
    await expectPools(expected(PRODUCTS, TODAY, days));
  });

  it('moves the dates through the horizons as the days pass (a refresh replaces every sum)', async () => {
    const tomorrow = addDays(TODAY, 1);
    await pools.refresh({ productIds: PRODUCTS, today: tomorrow, policy });
    const want = expected(PRODUCTS, tomorrow, days);
    // Yesterday's "today" left the range and day 60 entered it: the sums differ from before.
    expect(want.get('11:today')).not.toEqual(expected(PRODUCTS, TODAY, days).get('11:today'));
    await expectPools(want);
  });

  it('cuts many products into batches and still writes every pool', async () => {
    const many = Array.from({ length: 200 }, (_, i) => 1000 + i);
    await prisma.product.createMany({ data: many.map((id) => ({ id })) });
    const written = await pools.refresh({
      productIds: [...PRODUCTS, ...many],
      today: TODAY,
      policy,
    });
    expect(written).toBe((PRODUCTS.length + many.length) * policy.horizons.length);
    await expectPools(expected([...PRODUCTS, ...many], TODAY, days));
  });

  it('is refreshed by the leader only', async () => {
    const config = loadConfig({ SYNC_PRODUCT_IDS: '11,12' }, 'demo');
    let leader = false;
    const service = new ChangeRatePoolsService(
      pools,
      new ReadDemandRepository(prisma),
      config,
      policy,
      new Clock(),
      new NoOutage(),
      {
        instanceId: () => 'test',
        isLeader: () => leader,
        currentLeader: () => null,
      },
    );
    await prisma.changeRatePool.deleteMany();
    // Read counts of yesterday (read no more) and of today.
    const today = todayIn('UTC');
    await prisma.readDemand.createMany({
      data: [addDays(today, -1), today].map((d) => ({
        productId: 11,
        date: toDbDate(d),
        reads: 1,
        updatedAt: new Date(),
      })),
    });
    await service.refresh();
    expect(await prisma.readDemand.count()).toBe(2);
    expect(await prisma.changeRatePool.count()).toBe(0);
    expect(service.lastRefreshed()).toBeNull();
    leader = true;
    await service.refresh();
    expect(await prisma.changeRatePool.count()).toBe(2 * policy.horizons.length);
    expect(service.lastRefreshed()).not.toBeNull();
    expect((await prisma.readDemand.findMany()).map((r) => r.date)).toEqual([toDbDate(today)]);
    await service.onModuleDestroy();
  });
});
