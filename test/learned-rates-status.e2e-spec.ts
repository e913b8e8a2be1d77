import { PrismaService } from '../src/core/prisma.service';
import { addDays, toDbDate } from '../src/inventory/calendar';
import {
  LearnedRatesRepository,
  STATUS_BATCH_PRODUCT_DATES,
} from '../src/inventory/learning/learned-rates.repository';
import {
  addReads,
  learnedChangeRate,
  NO_CHANGE_STATS,
  readRate,
  type ChangeStats,
} from '../src/inventory/policy/learned-rates';
import { buildSyncPolicy, horizonForDay } from '../src/inventory/policy/sync-policy';
import { DEFAULT_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date('2026-12-01T00:00:00Z'));
const TODAY = '2026-12-07';
const NOW = new Date('2026-12-07T15:00:00Z');
const HALF_LIFE_S = 21_600;
const PRODUCTS = [21, 2222];

/** A deterministic spread: product p's date at offset d (some never synced, some unread). */
const rowOf = (p: number, d: number) => ({
  own: {
    changed: (p + d) % 3,
    changedSeconds: ((p + d) % 3) * (600 + 300 * (d % 5)),
    unchanged: (p * d) % 4,
    unchangedSeconds: ((p * d) % 4) * 1800,
  } satisfies ChangeStats,
  lastSuccessAgoS: (p + d) % 7 === 0 ? null : 60 * (1 + ((p * 13 + d * 7) % 240)),
  reads: d % 4 === 3 ? null : { count: 1 + ((p + 2 * d) % 9), agoS: 30 * ((p + d) % 50) },
});

const pool = (p: number, h: string): ChangeStats => ({
  changed: (p % 3) + h.length,
  changedSeconds: ((p % 3) + h.length) * 900,
  unchanged: 2 * h.length,
  unchangedSeconds: 2 * h.length * 1200,
});

describe('the learned rates per horizon (status), on the real PostgreSQL', () => {
  let db: TestDatabase;
  let prisma: PrismaService;

  beforeAll(async () => {
    db = await createTestDatabase('inv_learned_status');
    prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
    await prisma.$connect();
    // Product 23 is not configured: its rows must not count.
    await prisma.product.createMany({ data: [...PRODUCTS, 23].map((id) => ({ id })) });
    const days = Array.from({ length: policy.lastDay + 1 }, (_, d) => d);
    for (const p of [...PRODUCTS, 23]) {
      await prisma.productDateSync.createMany({
        data: days.map((d) => {
          const r = rowOf(p, d);
          return {
            productId: p,
            date: toDbDate(addDays(TODAY, d)),
            obsChanged: r.own.changed,
            obsChangedSeconds: r.own.changedSeconds,
            obsUnchanged: r.own.unchanged,
            obsUnchangedSeconds: r.own.unchangedSeconds,
            lastSuccessAt:
              r.lastSuccessAgoS === null
                ? null
                : new Date(NOW.getTime() - r.lastSuccessAgoS * 1000),
          };
        }),
      });
      await prisma.readDemand.createMany({
        data: days.flatMap((d) => {
          const r = rowOf(p, d).reads;
          return r
            ? [
                {
                  productId: p,
                  date: toDbDate(addDays(TODAY, d)),
                  reads: r.count,
                  updatedAt: new Date(NOW.getTime() - r.agoS * 1000),
                },
              ]
            : [];
        }),
      });
      await prisma.changeRatePool.createMany({
        data: policy.horizons.map((h) => ({
          productId: p,
          horizon: h.name,
          ...pool(p, h.name),
          updatedAt: NOW,
        })),
      });
    }
  });

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  /** The same figures from learned-rates.ts, row by row. */
  function expected() {
    const sumStats = (a: ChangeStats, b: ChangeStats): ChangeStats => ({
      changed: a.changed + b.changed,
      changedSeconds: a.changedSeconds + b.changedSeconds,
      unchanged: a.unchanged + b.unchanged,
      unchangedSeconds: a.unchangedSeconds + b.unchangedSeconds,
    });
    return policy.horizons.map((h) => {
      // Every product's pool counts in the horizon's, the unconfigured one's too (it is a pool).
      const horizonPool = [...PRODUCTS, 23].reduce(
        (a, p) => sumStats(a, pool(p, h.name)),
        NO_CHANGE_STATS,
      );
      const rates: number[] = [];
      let reads = 0;
      let fresh = 0;
      for (const p of PRODUCTS) {
        for (let d = h.fromDay; d <= h.toDay; d++) {
          expect(horizonForDay(policy, d).name).toBe(h.name);
          const r = rowOf(p, d);
          const lambda = learnedChangeRate({
            own: r.own,
            productPool: pool(p, h.name),
            horizonPool,
          });
          const mu = r.reads
            ? readRate(addReads(r.reads.count, r.reads.agoS, 0, HALF_LIFE_S), HALF_LIFE_S)
            : 0;
          rates.push(lambda);
          reads += mu;
          fresh += r.lastSuccessAgoS === null ? 0 : mu * Math.exp(-lambda * r.lastSuccessAgoS);
        }
      }
      const rateSum = rates.reduce((a, r) => a + r, 0);
      return { name: h.name, productDates: rates.length, rateSum, reads, fresh };
    });
  }

  it('gives each horizon the sum of the learned change rates, the read rate and the fresh reads of its product-dates', async () => {
    const sums = await new LearnedRatesRepository(prisma).horizonSums({
      productIds: PRODUCTS,
      today: TODAY,
      policy,
      now: NOW,
      readHalfLifeSeconds: HALF_LIFE_S,
    });
    const want = expected();
    expect(sums.map((s) => s.name)).toEqual(want.map((w) => w.name));
    sums.forEach((s, i) => {
      expect(s.productDates).toBe(want[i].productDates);
      expect(s.changeRateSum / want[i].rateSum).toBeCloseTo(1, 9);
      expect(s.readRate / want[i].reads).toBeCloseTo(1, 9);
      expect(s.freshReadRate / want[i].fresh).toBeCloseTo(1, 9);
      expect(s.freshReadRate).toBeLessThan(s.readRate);
    });
  });

  it('adds up batches of products (the embedded database is never held for the whole scan)', async () => {
    const repository = new LearnedRatesRepository(prisma);
    const input = { today: TODAY, policy, now: NOW, readHalfLifeSeconds: HALF_LIFE_S };
    // A batch's products: 21 and unknown ones fill the first, 2222 is in the second.
    const size = Math.floor(STATUS_BATCH_PRODUCT_DATES / (policy.lastDay + 1));
    const unknown = [
      ...Array.from({ length: 20 }, (_, i) => 1 + i),
      ...Array.from({ length: size - 21 }, (_, i) => 24 + i),
    ];
    const one = await repository.horizonSums({ ...input, productIds: PRODUCTS });
    const split = await repository.horizonSums({ ...input, productIds: [...PRODUCTS, ...unknown] });
    split.forEach((s, i) => {
      expect(s.productDates).toBe(one[i].productDates);
      expect(s.changeRateSum).toBeCloseTo(one[i].changeRateSum, 12);
      expect(s.readRate).toBeCloseTo(one[i].readRate, 12);
      expect(s.freshReadRate).toBeCloseTo(one[i].freshReadRate, 12);
    });
  });

  it('answers every horizon, with nothing in it, for products without rows', async () => {
    const sums = await new LearnedRatesRepository(prisma).horizonSums({
      productIds: [404],
      today: TODAY,
      policy,
      now: NOW,
      readHalfLifeSeconds: HALF_LIFE_S,
    });
    expect(sums).toEqual(
      policy.horizons.map((h) => ({
        name: h.name,
        productDates: 0,
        changeRateSum: 0,
        readRate: 0,
        freshReadRate: 0,
      })),
    );
  });
});
