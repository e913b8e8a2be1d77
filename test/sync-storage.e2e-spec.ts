import { PrismaService } from '../src/core/prisma.service';
import { InventoryEvents, type ProductDateChanged } from '../src/inventory/inventory-events';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { SyncService } from '../src/inventory/sync/sync.service';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { productDateStoreOn } from './support/product-date-store';
import { toDbDate } from '../src/inventory/calendar';
import type { WireSlot } from '../src/partner/simulator/simulator-data';
import { startPartnerHarness, type PartnerHarness } from './support/partner-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { DEFAULT_CRONS } from './support/default-crons';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { SCHEDULED_PRIORITY } from '../src/inventory/due/due-list.repository';

const P = 14;
const DATE = '2025-04-03';

function wireSlot(id: string, over: Partial<WireSlot> = {}): WireSlot {
  return {
    startDate: DATE,
    startTime: id === 'A' ? '04:30' : '05:00',
    endTime: id === 'A' ? '04:30' : '05:00',
    providerSlotId: `${id}_${DATE}`,
    remaining: 2000,
    currencyCode: 'SGD',
    variantId: 32,
    paxAvailability: [
      {
        type: 'ADULT_12~99',
        name: 'Adult',
        description: '12-99 years',
        min: 1,
        max: 20,
        remaining: 1000,
        isPrimary: true,
        price: { finalPrice: 212.14, originalPrice: 312.14, discount: 0.1, currencyCode: 'SGD' },
      },
      {
        type: 'CHILD_3~11',
        name: 'Child',
        description: '3-11 years',
        min: 0,
        max: 20,
        remaining: 1000,
        price: { finalPrice: 43, originalPrice: 143, discount: 0, currencyCode: 'SGD' },
      },
    ],
    ...over,
  };
}

/** Every stored row of the product-date with its PostgreSQL row version (xmin) and updated_at. */
async function rowVersions(prisma: PrismaService): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ v: string }>>`
    SELECT concat_ws('|', 'slot', s.provider_slot_id, s.xmin::text, s.updated_at::text) AS v
      FROM slots s WHERE s.product_id = ${P}
    UNION ALL
    SELECT concat_ws('|', 'pax', s.provider_slot_id, p.type, p.xmin::text, p.updated_at::text)
      FROM pax_availability p JOIN slots s ON s.id = p.slot_id WHERE s.product_id = ${P}
    ORDER BY 1`;
  return rows.map((r) => r.v);
}

async function storedSlots(prisma: PrismaService) {
  return prisma.slot.findMany({
    where: { productId: P, date: toDbDate(DATE) },
    include: { pax: { orderBy: { position: 'asc' } } },
    orderBy: { startTime: 'asc' },
  });
}

describe('SyncService storage on the real PostgreSQL, fetching from the partner simulator', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let harness: PartnerHarness;
  let sync: SyncService;
  let dueList: DueListRepository;
  let store: ProductDateStore;
  const changes: ProductDateChanged[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('inv_syncstore');
    prisma = new PrismaService({ url: db.url, poolSize: 4, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    harness = await startPartnerHarness({
      sim: { rateLimit: 20, windowMs: 1000 },
      limiter: { breakerThreshold: 100 },
    });
    const events = new InventoryEvents();
    events.productDateChanged$.subscribe((e) => changes.push(e));
    dueList = new DueListRepository(prisma);
    store = productDateStoreOn(prisma, { dueList });
    sync = new SyncService(store, harness.gateway, events);
  });

  afterAll(async () => {
    await harness?.close();
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  beforeEach(() => {
    changes.length = 0;
    harness.simulator.setFaults({ failNext: 0, wrongShape: false, malformedJson: false });
  });

  it('stores slots and pax with exact decimal prices and emits one change', async () => {
    harness.simulator.setInventory(P, DATE, [wireSlot('A'), wireSlot('B')]);
    const r = await sync.syncProductDate(P, DATE, 'today');
    expect(r.outcome).toBe('changed');
    const slots = await storedSlots(prisma);
    expect(slots.map((s) => s.providerSlotId)).toEqual([`A_${DATE}`, `B_${DATE}`]);
    expect(
      slots[0].pax.map((p) => [p.type, p.finalPrice.toString(), p.discount.toString()]),
    ).toEqual([
      ['ADULT_12~99', '212.14', '0.1'],
      ['CHILD_3~11', '43', '0'],
    ]);
    expect(changes).toEqual([{ productId: P, date: DATE }]);
    const state = await prisma.productDateSync.findUniqueOrThrow({
      where: { productId_date: { productId: P, date: toDbDate(DATE) } },
    });
    expect(state).toMatchObject({ slotCount: 2, lastOutcome: 'changed', lastError: null });
    expect(state.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes no slot or pax row when the answer is unchanged; only the success time moves', async () => {
    const before = await rowVersions(prisma);
    const stateBefore = await prisma.productDateSync.findUniqueOrThrow({
      where: { productId_date: { productId: P, date: toDbDate(DATE) } },
    });
    const r = await sync.syncProductDate(P, DATE, 'today');
    expect(r.outcome).toBe('unchanged');
    expect(await rowVersions(prisma)).toEqual(before);
    const state = await prisma.productDateSync.findUniqueOrThrow({
      where: { productId_date: { productId: P, date: toDbDate(DATE) } },
    });
    expect(state.lastSuccessAt!.getTime()).toBeGreaterThan(stateBefore.lastSuccessAt!.getTime());
    expect(state.lastChangedAt).toEqual(stateBefore.lastChangedAt);
    expect(state.lastOutcome).toBe('unchanged');
    expect(changes).toEqual([]);
  });

  it('updates only the changed rows and deletes vanished slots with their pax', async () => {
    const before = await rowVersions(prisma);
    const changed = wireSlot('A');
    changed.paxAvailability[1].price.finalPrice = 43.07;
    harness.simulator.setInventory(P, DATE, [changed]);
    const r = await sync.syncProductDate(P, DATE, 'today');
    expect(r.outcome).toBe('changed');
    const after = await rowVersions(prisma);
    const of = (rows: string[], prefix: string): string[] =>
      rows.filter((v) => v.startsWith(prefix));
    // Slot A and its adult pax are untouched, its child pax was rewritten, B is gone.
    expect(of(after, `slot|A_${DATE}|`)).toEqual(of(before, `slot|A_${DATE}|`));
    expect(of(after, `pax|A_${DATE}|ADULT`)).toEqual(of(before, `pax|A_${DATE}|ADULT`));
    expect(of(after, `pax|A_${DATE}|CHILD`)).toHaveLength(1);
    expect(of(after, `pax|A_${DATE}|CHILD`)).not.toEqual(of(before, `pax|A_${DATE}|CHILD`));
    expect(of(before, `slot|B_${DATE}|`)).toHaveLength(1);
    expect(after.filter((v) => v.includes(`B_${DATE}`))).toEqual([]);
    const slots = await storedSlots(prisma);
    expect(slots).toHaveLength(1);
    expect(slots[0].pax[1].finalPrice.toString()).toBe('43.07');
    expect(await prisma.paxAvailability.count()).toBe(2);
    expect(changes).toEqual([{ productId: P, date: DATE }]);
  });

  it.each([
    ['a server error', { failNext: 1 }, 'server_error'],
    ['a payload that breaks the contract', { wrongShape: true }, 'invalid_payload'],
    ['a body that is not JSON', { malformedJson: true }, 'invalid_payload'],
  ])(
    'leaves stored slots intact after %s and records the attempt',
    async (_what, faults, outcome) => {
      const before = await rowVersions(prisma);
      const hashBefore = (
        await prisma.productDateSync.findUniqueOrThrow({
          where: { productId_date: { productId: P, date: toDbDate(DATE) } },
        })
      ).contentHash;
      // Accepted, this answer would add slot B: nothing of it may reach the tables.
      harness.simulator.setInventory(P, DATE, [wireSlot('B')]);
      harness.simulator.setFaults(faults);
      const r = await sync.syncProductDate(P, DATE, 'today');
      expect(r).toMatchObject({ outcome: 'failed', errorOutcome: outcome });
      expect(await rowVersions(prisma)).toEqual(before);
      const state = await prisma.productDateSync.findUniqueOrThrow({
        where: { productId_date: { productId: P, date: toDbDate(DATE) } },
      });
      expect(state).toMatchObject({ lastOutcome: outcome, contentHash: hashBefore, slotCount: 1 });
      expect(state.lastError).toEqual(expect.any(String));
      expect(state.lastAttemptAt!.getTime()).toBeGreaterThan(state.lastSuccessAt!.getTime());
      expect(changes).toEqual([]);
    },
  );

  it('leaves stored slots and the sync record intact when the partner answers 429 (handed back, still due)', async () => {
    const before = await rowVersions(prisma);
    const stateBefore = await prisma.productDateSync.findUniqueOrThrow({
      where: { productId_date: { productId: P, date: toDbDate(DATE) } },
    });
    harness.simulator.setInventory(P, DATE, [wireSlot('B')]);
    // A foreign consumer of the same key keeps the budget spent for the whole attempt.
    const spender = setInterval(() => harness.simulator.spendBudget(25), 100);
    try {
      harness.simulator.spendBudget(25);
      const r = await sync.syncProductDate(P, DATE, 'today');
      // A 429 is the key's state, not the product-date's failure: no attempt is recorded.
      expect(r.outcome).toBe('skipped');
      expect(harness.simulator.stats().byStatus['429']).toBeGreaterThan(0);
      expect(
        await prisma.productDateSync.findUniqueOrThrow({
          where: { productId_date: { productId: P, date: toDbDate(DATE) } },
        }),
      ).toEqual(stateBefore);
    } finally {
      clearInterval(spender);
    }
    expect(await rowVersions(prisma)).toEqual(before);
    expect(changes).toEqual([]);
  });

  it('stores once when two syncs of one product-date run at the same time', async () => {
    harness.simulator.setFaults({ latencyMs: 100 });
    harness.simulator.setInventory(P, '2025-04-04', [wireSlot('C', { startDate: '2025-04-04' })]);
    const calls = harness.simulator.stats().perProductDate[`${P}:2025-04-04`] ?? 0;
    const [a, b] = await Promise.all([
      sync.syncProductDate(P, '2025-04-04', 'week'),
      sync.syncProductDate(P, '2025-04-04', 'today'),
    ]);
    harness.simulator.setFaults({ latencyMs: 0 });
    // The limiter joins the two callers on one partner call; the second store finds it stored.
    expect([a.outcome, b.outcome].sort()).toEqual(['changed', 'unchanged']);
    expect(harness.simulator.stats().perProductDate[`${P}:2025-04-04`]).toBe(calls + 1);
    expect(changes).toEqual([{ productId: P, date: '2025-04-04' }]);
  });

  describe('a tick that marks a product-date whose fetch is already in flight', () => {
    const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date('2025-04-05T00:00:00Z'));
    const tick = (day: string, at: Date) =>
      dueList.markDue({
        scope: { productIds: [P], from: day, to: day },
        reason: 'quarter-hourly',
        priority: SCHEDULED_PRIORITY,
        freshSince: at,
        today: day,
        policy,
      });
    const dueSince = async (day: string) =>
      (await prisma.productDateSync.findUnique({
        where: { productId_date: { productId: P, date: toDbDate(day) } },
      }))!.dueSince;

    it('keeps the mark when the fetch began before the tick, and clears it for one begun after', async () => {
      const day = '2025-04-05';
      const t1 = new Date(Date.now() - 10_000);
      await tick(day, t1);
      const claimed = new Date(t1.getTime() + 2_000); // the fetch of the first tick's mark begins
      const t2 = new Date(t1.getTime() + 4_000); // the next tick, while that fetch is in flight
      expect(await tick(day, t2)).toMatchObject({ due: 1, shared: 1 });
      await store.store(P, day, [], store.beginAttempt(claimed));
      // Its answer was asked for before the second tick: that tick still gets a fetch.
      expect(await dueSince(day)).not.toBeNull();
      await store.store(P, day, [], store.beginAttempt(new Date(t2.getTime() + 1_000)));
      expect(await dueSince(day)).toBeNull();
    });

    it('lets windows that tick at the same instant share one fetch begun after it', async () => {
      const day = '2025-04-06';
      const t = new Date(Date.now() - 10_000);
      await tick(day, t);
      expect(await tick(day, t)).toMatchObject({ due: 1, shared: 1 }); // another window, same instant
      await store.store(P, day, [], store.beginAttempt(new Date(t.getTime() + 1_000)));
      expect(await dueSince(day)).toBeNull();
    });
  });
});
