import { PrismaService } from '../src/core/prisma.service';
import {
  ChangeEventsRepository,
  CursorExpiredError,
  type ChangeEvent,
} from '../src/inventory/changes/change-events.repository';
import { ProductsRepository } from '../src/inventory/products/products.repository';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { productDateStoreOn } from './support/product-date-store';
import { SlotDateConflictError } from '../src/inventory/sync/slot-date-conflict.error';
import type { PartnerSlot } from '../src/partner/partner.types';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const P = 31;
const DATE = '2026-12-20';
const OTHER = '2026-12-21';

function slot(id: string, over: Partial<PartnerSlot> = {}, date = DATE): PartnerSlot {
  return {
    startDate: date,
    startTime: '09:00',
    endTime: '10:00',
    providerSlotId: id,
    remaining: 10,
    currencyCode: 'EUR',
    variantId: 1,
    paxAvailability: [
      {
        type: 'ADULT',
        name: 'Adult',
        description: 'Adults',
        min: 1,
        max: 10,
        remaining: 10,
        isPrimary: true,
        finalPrice: '20.00',
        originalPrice: '25.00',
        discount: '0.2',
        currencyCode: 'EUR',
      },
    ],
    ...over,
  };
}

const withPax = (s: PartnerSlot, pax: Partial<PartnerSlot['paxAvailability'][number]>) => ({
  ...s,
  paxAvailability: [{ ...s.paxAvailability[0], ...pax }],
});

describe('Change feed outbox: events written in the store transaction (real PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let events: ChangeEventsRepository;
  let store: ProductDateStore;

  beforeAll(async () => {
    db = await createTestDatabase('inv_changes');
    prisma = new PrismaService({ url: db.url, poolSize: 4, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    events = new ChangeEventsRepository(prisma);
    store = productDateStoreOn(prisma, { events });
  }, 60_000);

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  /** Publishes what was written and returns the events of this step. */
  async function step(
    answer: PartnerSlot[],
    date = DATE,
  ): Promise<{ changed: boolean; ev: ChangeEvent[] }> {
    const changed = await store.store(P, date, answer);
    return { changed, ev: await events.publish(1000) };
  }

  it('writes one availability.changed event per changed product-date with its diff, none when unchanged', async () => {
    const first = await step([slot('A'), slot('B', { remaining: 0 })]);
    expect(first.changed).toBe(true);
    expect(first.ev).toHaveLength(1);
    expect(first.ev[0]).toMatchObject({
      type: 'availability.changed',
      productId: P,
      date: DATE,
      data: {
        productId: P,
        date: DATE,
        version: first.ev[0].cursor,
        slots: {
          added: ['A', 'B'],
          removed: [],
          seatsChanged: [],
          priceChanged: [],
          otherChanged: [],
        },
        soldOut: [],
        reopened: [],
      },
    });

    // The same answer (a price spelled differently is the same price): nothing changes, no event.
    const same = await step([
      withPax(slot('A'), { finalPrice: '20.0000' }),
      slot('B', { remaining: 0 }),
    ]);
    expect(same).toEqual({ changed: false, ev: [] });

    // A sells out, B reopens with a new price, C arrives, and the rest stays.
    const next = await step([
      withPax(slot('A', { remaining: 0 }), { remaining: 0 }),
      withPax(slot('B', { remaining: 4 }), { remaining: 4, finalPrice: '18.5' }),
      slot('C'),
    ]);
    expect(next.changed).toBe(true);
    expect(next.ev).toHaveLength(1);
    expect(next.ev[0].data).toMatchObject({
      slots: {
        added: ['C'],
        removed: [],
        seatsChanged: ['A', 'B'],
        priceChanged: ['B'],
        otherChanged: [],
      },
      soldOut: ['A'],
      reopened: ['B'],
    });
    expect(BigInt(next.ev[0].cursor)).toBeGreaterThan(BigInt(first.ev[0].cursor));

    // B leaves, A's pax name changes: removed and otherChanged.
    const last = await step([
      withPax(slot('A', { remaining: 0 }), { remaining: 0, name: 'Grown-up' }),
      slot('C'),
    ]);
    expect(last.ev).toHaveLength(1);
    expect(last.ev[0].data).toMatchObject({
      slots: { added: [], removed: ['B'], seatsChanged: [], priceChanged: [], otherChanged: ['A'] },
      soldOut: [],
      reopened: [],
    });
  });

  it('writes an event exactly when the store writes rows, over many random answers', async () => {
    const ids = ['R1', 'R2', 'R3'];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    await step([], '2026-12-25');
    for (let i = 0; i < 40; i++) {
      const answer = ids
        .filter(() => rnd(4) > 0)
        .map((id) =>
          withPax(
            slot(
              id,
              { remaining: rnd(3), startTime: rnd(5) === 0 ? '11:00' : '09:00' },
              '2026-12-25',
            ),
            {
              remaining: rnd(3),
              finalPrice: rnd(3) === 0 ? '19' : '20.00',
            },
          ),
        );
      const { changed, ev } = await step(answer, '2026-12-25');
      expect(ev).toHaveLength(changed ? 1 : 0);
    }
  });

  it('writes no event when the store fails (same transaction)', async () => {
    const before = await prisma.changeEvent.count();
    // OTHER names A, which is stored under DATE: the store throws after the event was inserted.
    await expect(store.store(P, OTHER, [slot('A', {}, OTHER)])).rejects.toBeInstanceOf(
      SlotDateConflictError,
    );
    expect(await prisma.changeEvent.count()).toBe(before);
    expect(await events.publish(1000)).toEqual([]);
  });

  it('pages the feed in cursor order, filters by product and moves the cursor past others', async () => {
    const all = await events.page(null, 1000);
    expect(all.events.length).toBeGreaterThan(3);
    const cursors = all.events.map((e) => BigInt(e.cursor));
    expect([...cursors].sort((a, b) => (a < b ? -1 : 1))).toEqual(cursors);
    expect(all.nextCursor).toBe(all.head);

    const firstTwo = await events.page(null, 2);
    expect(firstTwo.events.map((e) => e.cursor)).toEqual(
      all.events.slice(0, 2).map((e) => e.cursor),
    );
    const rest = await events.page(BigInt(firstTwo.nextCursor), 1000);
    expect(rest.events.map((e) => e.cursor)).toEqual(all.events.slice(2).map((e) => e.cursor));

    const none = await events.page(null, 10, 999);
    expect(none.events).toEqual([]);
    expect(none.nextCursor).toBe(all.head);
  });

  it('writes one product.removed event when a product leaves the configured list', async () => {
    const products = new ProductsRepository(prisma, events);
    expect(await products.register([P, 32])).toEqual([]);
    expect(await products.register([P])).toEqual([32]);
    expect(await products.register([P])).toEqual([]);
    const published = await events.publish(1000);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ type: 'product.removed', productId: 32, date: null });
  });

  it('prunes events older than the retention in batches and answers older cursors with 410', async () => {
    const head = BigInt((await events.page(null, 1)).head);
    const total = await prisma.changeEvent.count();
    // All but the newest event are made 8 days old.
    await prisma.$executeRaw`
      UPDATE change_events SET created_at = now() - interval '8 days' WHERE position < ${head}`;
    const pruned = await events.prune(7 * 86_400_000, 2);
    expect(pruned).toBe(total - 1);
    expect(await prisma.changeEvent.count()).toBe(1);
    await expect(events.page(0n, 10)).rejects.toBeInstanceOf(CursorExpiredError);
    await expect(events.page(head - 2n, 10)).rejects.toThrow(
      /older than the change feed's retention/,
    );
    const fromPruned = await events.page(head - 1n, 10);
    expect(fromPruned.events.map((e) => e.cursor)).toEqual([head.toString()]);
    // Without a cursor a consumer starts at the oldest event kept.
    expect((await events.page(null, 10)).events).toHaveLength(1);
  });
});
