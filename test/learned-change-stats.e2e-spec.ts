import { PrismaService } from '../src/core/prisma.service';
import { addDays, toDbDate, todayIn } from '../src/inventory/calendar';
import {
  NO_CHANGE_STATS,
  observeChange,
  type ChangeStats,
} from '../src/inventory/policy/learned-rates';
import type { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { parsePartnerInventory } from '../src/partner/partner-payload';
import type { WireSlot } from '../src/partner/simulator/simulator-data';
import { productDateStoreOn } from './support/product-date-store';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const P = 14;
/** A short half-life, so that the decay between two syncs is large enough to be seen. */
const HALF_LIFE_MS = 3_600_000;

function answer(date: string, remaining: number) {
  const slot: WireSlot = {
    startDate: date,
    startTime: '09:00',
    endTime: '10:00',
    providerSlotId: `${P}_${date}T09:00`,
    remaining,
    currencyCode: 'SGD',
    variantId: 1,
    paxAvailability: [
      {
        type: 'ADULT',
        name: 'Adult',
        description: 'Adult',
        min: 1,
        max: 10,
        remaining,
        isPrimary: true,
        price: { finalPrice: 10, originalPrice: 10, discount: 0, currencyCode: 'SGD' },
      },
    ],
  };
  return parsePartnerInventory([slot], date);
}

describe("a product-date's change statistics, learned by the store on the real PostgreSQL", () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let store: ProductDateStore;
  const date = addDays(todayIn('UTC'), 3);
  let remaining = 50;

  const row = async () => {
    const r = await prisma.productDateSync.findUniqueOrThrow({
      where: { productId_date: { productId: P, date: toDbDate(date) } },
    });
    const stats: ChangeStats = {
      changed: r.obsChanged,
      changedSeconds: r.obsChangedSeconds,
      unchanged: r.obsUnchanged,
      unchangedSeconds: r.obsUnchangedSeconds,
    };
    return { stats, lastSuccessAt: r.lastSuccessAt!, dataFetchedAt: r.dataFetchedAt! };
  };

  /**
   * Stores an answer asked `afterSeconds` after the previous ask (asks run ahead of the wall
   * clock, so each is later than the last), changed or not. Returns the interval the store
   * observes (from the previous success to this ask) and what observeChange gives for it from the
   * row as it was before.
   */
  const syncAfter = async (afterSeconds: number, change: boolean) => {
    const before = await row();
    const askedAt = new Date(before.dataFetchedAt.getTime() + afterSeconds * 1000);
    const tau = (askedAt.getTime() - before.lastSuccessAt.getTime()) / 1000;
    if (change) remaining -= 1;
    const changed = await store.store(
      P,
      date,
      answer(date, remaining),
      store.beginAttempt(askedAt),
    );
    expect(changed).toBe(change);
    const expected = observeChange(
      before.stats,
      { tauSeconds: tau, changed: change },
      HALF_LIFE_MS / 1000,
    );
    return { tau, expected };
  };

  const expectStats = (actual: ChangeStats, expected: ChangeStats) => {
    for (const k of Object.keys(expected) as Array<keyof ChangeStats>) {
      expect(actual[k]).toBeCloseTo(expected[k], 9);
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase('inv_change_stats');
    prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    store = productDateStoreOn(prisma, {
      learning: {
        changeHalfLifeMs: HALF_LIFE_MS,
        readHalfLifeMs: 21_600_000,
        readFlushMs: 10_000,
        poolsRefreshMs: 300_000,
      },
    });
  });

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  it('learns nothing from a first success (no interval to observe)', async () => {
    expect(await store.store(P, date, answer(date, remaining))).toBe(true);
    expectStats((await row()).stats, NO_CHANGE_STATS);
  });

  it('adds an unchanged observation with its interval', async () => {
    const { tau, expected } = await syncAfter(1800, false);
    const { stats } = await row();
    expectStats(stats, expected);
    expect(stats).toMatchObject({ changed: 0, changedSeconds: 0, unchanged: 1 });
    expect(stats.unchangedSeconds).toBeCloseTo(tau, 6);
  });

  it('adds a changed one, decaying what was learned before by its interval', async () => {
    const { tau, expected } = await syncAfter(7200, true);
    const { stats } = await row();
    expectStats(stats, expected);
    // Two half-lives or more of watching: the earlier observation counts a quarter or less.
    expect(tau).toBeGreaterThanOrEqual(7200);
    expect(stats.unchanged).toBeCloseTo(Math.pow(2, -tau / 3600), 9);
    expect(stats.changed).toBe(1);
    expect(stats.changedSeconds).toBeCloseTo(tau, 6);
  });

  it('follows observeChange over a run of syncs with and without changes', async () => {
    for (const [after, change] of [
      [600, false],
      [900, true],
      [60, false],
      [5400, true],
      [300, true],
    ] as const) {
      const { expected } = await syncAfter(after, change);
      expectStats((await row()).stats, expected);
    }
  });

  it('leaves the statistics alone when a fetch fails', async () => {
    const before = await row();
    const askedAt = new Date(before.dataFetchedAt.getTime() + 60_000);
    await store.recordFailure(P, date, store.beginAttempt(askedAt), {
      outcome: 'error',
      error: 'boom',
    });
    expectStats((await row()).stats, before.stats);
  });
});
