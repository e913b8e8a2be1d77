import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../src/core/database/embedded-postgres';
import { migrate } from '../src/core/database/migrator';
import { PrismaService } from '../src/core/prisma.service';
import { toDbDate } from '../src/inventory/calendar';
import { InventoryEvents, type ProductDateChanged } from '../src/inventory/inventory-events';
import { SlotDateConflictError } from '../src/inventory/sync/slot-date-conflict.error';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { slotsQuery } from '../src/inventory/read/slot-read.service';
import { SyncService } from '../src/inventory/sync/sync.service';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { productDateStoreOn } from './support/product-date-store';
import { PartnerInvalidPayloadError } from '../src/partner/partner-errors';
import { parsePartnerInventory } from '../src/partner/partner-payload';
import type { PartnerInventory } from '../src/partner/partner.types';
import { bigInventory, type WireSlot } from '../src/partner/simulator/simulator-data';
import { startPartnerHarness, type PartnerHarness } from './support/partner-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const P = 14;
const D1 = '2026-12-01';
const D2 = '2026-12-02';
const BIG = '2026-12-10';
// Validating and moving a 4 MB answer takes seconds of CPU; the machine is shared and loaded.
const BIG_TIMEOUT_MS = 180_000;

/** A partner slot of product 14 on `date` at `time` (the partner's id scheme: `14_<date>T<time>`). */
function wireSlot(date: string, time: string, finalPrice = 212.14): WireSlot {
  return {
    startDate: date,
    startTime: time,
    endTime: time,
    providerSlotId: `14_${date}T${time}`,
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
        price: { finalPrice, originalPrice: 312.14, discount: 100, currencyCode: 'SGD' },
      },
      {
        type: 'CHILD_3~11',
        name: 'Child',
        description: '3-11 years',
        min: 0,
        max: 20,
        remaining: 1000,
        price: { finalPrice: 43, originalPrice: 143, discount: 100, currencyCode: 'SGD' },
      },
    ],
  };
}

const D2_SLOTS = [wireSlot(D2, '04:00'), wireSlot(D2, '04:30'), wireSlot(D2, '05:00')];
const D1_SLOTS = [wireSlot(D1, '04:00'), wireSlot(D1, '04:30')];

/** Every row of one product-date with its row version (xmin) and updated_at: equal = not written. */
async function rowVersions(prisma: PrismaService, date: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ v: string }>>`
    SELECT concat_ws('|', 'slot', s.provider_slot_id, s.xmin::text, s.updated_at::text) AS v
      FROM slots s WHERE s.product_id = ${P} AND s.date = ${date}::date
    UNION ALL
    SELECT concat_ws('|', 'pax', s.provider_slot_id, p.type, p.final_price::text, p.xmin::text,
                     p.updated_at::text)
      FROM pax_availability p JOIN slots s ON s.id = p.slot_id
     WHERE s.product_id = ${P} AND s.date = ${date}::date
    ORDER BY 1`;
  return rows.map((r) => r.v);
}

/** The stored slots of one product-date as "<providerSlotId> <adult price>/<child price>". */
async function stored(prisma: PrismaService, date: string): Promise<string[]> {
  const slots = await prisma.slot.findMany({
    where: { productId: P, date: toDbDate(date) },
    include: { pax: { orderBy: { position: 'asc' } } },
    orderBy: { providerSlotId: 'asc' },
  });
  return slots.map(
    (s) => `${s.providerSlotId} ${s.pax.map((p) => p.finalPrice.toString()).join('/')}`,
  );
}

async function syncState(prisma: PrismaService, date: string) {
  return prisma.productDateSync.findUniqueOrThrow({
    where: { productId_date: { productId: P, date: toDbDate(date) } },
  });
}

/**
 * A product-date's stored answer (null: none) with its row version (xmin: equal = not written),
 * and the JSON text the live query builds from the rows as they are now.
 */
async function answers(
  prisma: PrismaService,
  date: string,
): Promise<{ stored: string | null; version: string | null; live: string }> {
  const [row] = await prisma.$queryRaw<Array<{ body: string; version: string }>>`
    SELECT body, xmin::text AS version FROM slot_answers WHERE product_id = ${P} AND date = ${date}::date`;
  const [live] = await prisma.$queryRaw<Array<{ body: string }>>(slotsQuery(P, date));
  return { stored: row?.body ?? null, version: row?.version ?? null, live: live.body };
}

/** The providerSlotIds and adult prices of a JSON answer, in its order. */
const shown = (body: string | null): string[] =>
  (
    JSON.parse(body ?? 'null') as Array<{ providerSlotId: string; price: { finalPrice: number } }>
  ).map((s) => `${s.providerSlotId} ${s.price.finalPrice}`);

const expectedD2 = [
  `14_${D2}T04:00 212.14/43`,
  `14_${D2}T04:30 212.14/43`,
  `14_${D2}T05:00 212.14/43`,
];

describe('sync integrity on the real PostgreSQL, fetching from the partner simulator', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let harness: PartnerHarness;
  let sync: SyncService;
  let store: ProductDateStore;
  const changes: ProductDateChanged[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('inv_integrity');
    prisma = new PrismaService({ url: db.url, poolSize: 4, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    harness = await startPartnerHarness({
      sim: { rateLimit: 50, windowMs: 1000 },
      limiter: { breakerThreshold: 100 },
      // A 5,000-slot answer is about 4 MB: give the transfer room on a loaded machine.
      env: { PARTNER_TIMEOUT_MS: '20000' },
    });
    const events = new InventoryEvents();
    events.productDateChanged$.subscribe((e) => changes.push(e));
    const dueList = new DueListRepository(prisma);
    store = productDateStoreOn(prisma, { dueList });
    sync = new SyncService(store, harness.gateway, events);
    harness.simulator.setInventory(P, D1, D1_SLOTS);
    harness.simulator.setInventory(P, D2, D2_SLOTS);
  });

  afterAll(async () => {
    await harness?.close();
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  beforeEach(() => {
    changes.length = 0;
    harness.simulator.setFaults({ crossDateSlot: false, wrongStartDate: false, slotsPerAnswer: 0 });
  });

  describe('cross-date slots', () => {
    it('rejects a day whose answer carries a slot of the next day; that day keeps its 3 slots', async () => {
      expect((await sync.syncProductDate(P, D2, 'today')).outcome).toBe('changed');
      expect(await stored(prisma, D2)).toEqual(expectedD2);
      const d2Before = await rowVersions(prisma, D2);

      // 12-01's answer also holds 14_2026-12-02T04:00, the first slot of 12-02.
      harness.simulator.setFaults({ crossDateSlot: true });
      changes.length = 0;
      const r = await sync.syncProductDate(P, D1, 'today');
      expect(r).toMatchObject({ outcome: 'failed', errorOutcome: 'invalid_payload' });
      expect(r.error).toContain('[2].startDate');
      const state = await syncState(prisma, D1);
      expect(state.lastOutcome).toBe('invalid_payload');
      expect(state.lastError).toBe(
        `Partner sent an invalid payload at [2].startDate: ${D2} is not the requested date ${D1}`,
      );
      expect(state.lastSuccessAt).toBeNull();
      expect(await stored(prisma, D1)).toEqual([]);
      expect(await rowVersions(prisma, D2)).toEqual(d2Before);
      expect(changes).toEqual([]);

      // The next good answers: 12-02 is as the partner says, 12-01 is stored.
      harness.simulator.setFaults({ crossDateSlot: false });
      expect((await sync.syncProductDate(P, D2, 'today')).outcome).toBe('unchanged');
      expect(await stored(prisma, D2)).toEqual(expectedD2);
      expect((await sync.syncProductDate(P, D1, 'today')).outcome).toBe('changed');
      expect(await stored(prisma, D1)).toEqual([
        `14_${D1}T04:00 212.14/43`,
        `14_${D1}T04:30 212.14/43`,
      ]);
    });

    it('rejects an answer whose startDate is another date for every slot and keeps the stored day', async () => {
      const d1Before = await rowVersions(prisma, D1);
      const d2Before = await rowVersions(prisma, D2);
      harness.simulator.setFaults({ wrongStartDate: true });
      const r = await sync.syncProductDate(P, D1, 'today');
      expect(r).toMatchObject({ outcome: 'failed', errorOutcome: 'invalid_payload' });
      expect((await syncState(prisma, D1)).lastError).toBe(
        `Partner sent an invalid payload at [0].startDate: ${D2} is not the requested date ${D1}`,
      );
      expect(await rowVersions(prisma, D1)).toEqual(d1Before);
      expect(await rowVersions(prisma, D2)).toEqual(d2Before);
      expect(changes).toEqual([]);
    });

    it('repairs a product-date whose rows diverged behind its content hash on the next good sync', async () => {
      // Rows deleted and changed behind the service's back; the recorded hash still matches the answer.
      await prisma.$executeRaw`DELETE FROM slots WHERE product_id = ${P} AND provider_slot_id = ${`14_${D2}T05:00`}`;
      await prisma.$executeRaw`
        UPDATE pax_availability p SET final_price = 1 FROM slots s
         WHERE p.slot_id = s.id AND s.provider_slot_id = ${`14_${D2}T04:30`} AND p.type = 'CHILD_3~11'`;
      const untouched = (await rowVersions(prisma, D2)).filter((v) => v.includes('T04:00'));

      const r = await sync.syncProductDate(P, D2, 'today');
      expect(r.outcome).toBe('changed');
      expect(await stored(prisma, D2)).toEqual(expectedD2);
      expect(changes).toEqual([{ productId: P, date: D2 }]);
      // Only the diverged rows were written.
      expect((await rowVersions(prisma, D2)).filter((v) => v.includes('T04:00'))).toEqual(
        untouched,
      );

      const repaired = await rowVersions(prisma, D2);
      expect((await sync.syncProductDate(P, D2, 'today')).outcome).toBe('unchanged');
      expect(await rowVersions(prisma, D2)).toEqual(repaired);
    });

    it('never lets a direct store of one date touch another date, whatever the answer says', async () => {
      const d2Before = await rowVersions(prisma, D2);
      const d1Before = await rowVersions(prisma, D1);
      const other = parsePartnerInventory(structuredClone(D2_SLOTS), D2);
      // A slot of 12-02 handed to the store of 12-01 (a caller that skipped validation).
      await expect(store.store(P, D1, other.slice(0, 1))).rejects.toBeInstanceOf(
        PartnerInvalidPayloadError,
      );
      // The same providerSlotId, now claiming 12-01 (the partner reusing an id across dates).
      const reused: PartnerInventory = [{ ...other[0], startDate: D1 }];
      const err = await store.store(P, D1, reused).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SlotDateConflictError);
      expect((err as SlotDateConflictError).message).toBe(
        `Slot 14_${D2}T04:00 of product 14 is stored under ${D2}, not ${D1}; it stays there until ${D2} is synced without it`,
      );
      expect(await rowVersions(prisma, D2)).toEqual(d2Before);
      expect(await rowVersions(prisma, D1)).toEqual(d1Before);
    });
  });

  describe('a providerSlotId reused across dates', () => {
    afterAll(() => harness.simulator.setInventory(P, D1, D1_SLOTS));

    it('fails the sync as slot_date_conflict, records it, and leaves both dates as they were', async () => {
      const d1Before = await rowVersions(prisma, D1);
      const d2Before = await rowVersions(prisma, D2);
      // 12-01's answer names 12-02's slot id with a startDate of 12-01: valid on its own.
      harness.simulator.setInventory(P, D1, [
        ...D1_SLOTS,
        { ...wireSlot(D1, '06:00'), providerSlotId: `14_${D2}T04:00` },
      ]);
      const r = await sync.syncProductDate(P, D1, 'today');
      expect(r).toMatchObject({ outcome: 'failed', errorOutcome: 'slot_date_conflict' });
      const state = await syncState(prisma, D1);
      expect(state.lastOutcome).toBe('slot_date_conflict');
      expect(state.lastError).toContain(`Slot 14_${D2}T04:00 of product 14 is stored under ${D2}`);
      expect(await rowVersions(prisma, D1)).toEqual(d1Before);
      expect(await rowVersions(prisma, D2)).toEqual(d2Before);
      expect(changes).toEqual([]);
    });
  });

  describe('the stored answer (slot_answers)', () => {
    const D5 = '2026-12-05';
    const D6 = '2026-12-06';

    afterEach(() => harness.simulator.setFaults({ failNext: 0 }));

    it('equals the live query after each create, update, unchanged sync, shrink and emptying', async () => {
      const expectFresh = async (slots: string[]) => {
        const a = await answers(prisma, D5);
        expect(a.stored).toBe(a.live);
        expect(shown(a.stored)).toEqual(slots);
        return a;
      };
      expect((await answers(prisma, D5)).stored).toBeNull();

      harness.simulator.setInventory(P, D5, [
        wireSlot(D5, '05:00'),
        wireSlot(D5, '04:00'),
        wireSlot(D5, '04:30'),
      ]);
      expect((await sync.syncProductDate(P, D5, 'today')).outcome).toBe('changed');
      await expectFresh([
        `14_${D5}T04:00 212.14`,
        `14_${D5}T04:30 212.14`,
        `14_${D5}T05:00 212.14`,
      ]);

      harness.simulator.setInventory(P, D5, [
        wireSlot(D5, '04:00'),
        wireSlot(D5, '04:30', 199.5),
        wireSlot(D5, '05:00'),
      ]);
      expect((await sync.syncProductDate(P, D5, 'today')).outcome).toBe('changed');
      const updated = await expectFresh([
        `14_${D5}T04:00 212.14`,
        `14_${D5}T04:30 199.5`,
        `14_${D5}T05:00 212.14`,
      ]);

      // The same answer again: no slot or pax row is written, and neither is the answer.
      expect((await sync.syncProductDate(P, D5, 'today')).outcome).toBe('unchanged');
      expect((await answers(prisma, D5)).version).toBe(updated.version);

      harness.simulator.setInventory(P, D5, [wireSlot(D5, '04:30', 199.5)]);
      expect((await sync.syncProductDate(P, D5, 'today')).outcome).toBe('changed');
      await expectFresh([`14_${D5}T04:30 199.5`]);

      harness.simulator.setInventory(P, D5, []);
      expect((await sync.syncProductDate(P, D5, 'today')).outcome).toBe('changed');
      expect(await expectFresh([])).toMatchObject({ stored: '[]' });
    });

    it('is written by the first sync of a product-date even when its rows are unchanged', async () => {
      // An empty day never synced before: no row to write, still an answer to store.
      harness.simulator.setInventory(P, D6, []);
      expect((await sync.syncProductDate(P, D6, 'today')).outcome).toBe('unchanged');
      expect(await answers(prisma, D6)).toMatchObject({ stored: '[]', live: '[]' });

      // A product-date stored before slot_answers existed: its next sync stores the answer.
      harness.simulator.setInventory(P, D6, [wireSlot(D6, '04:00')]);
      expect((await sync.syncProductDate(P, D6, 'today')).outcome).toBe('changed');
      await prisma.$executeRaw`DELETE FROM slot_answers WHERE product_id = ${P} AND date = ${D6}::date`;
      expect((await sync.syncProductDate(P, D6, 'today')).outcome).toBe('unchanged');
      const a = await answers(prisma, D6);
      expect(a.stored).toBe(a.live);
      expect(shown(a.stored)).toEqual([`14_${D6}T04:00 212.14`]);
    });

    it('is left as it was by a failed fetch and by a slot_date_conflict', async () => {
      harness.simulator.setInventory(P, D5, [wireSlot(D5, '04:00')]);
      expect((await sync.syncProductDate(P, D5, 'today')).outcome).toBe('changed');
      const before = await answers(prisma, D5);
      expect(shown(before.stored)).toEqual([`14_${D5}T04:00 212.14`]);

      // Accepted, either answer would add a slot: nothing of it may reach the answer.
      harness.simulator.setInventory(P, D5, [wireSlot(D5, '04:00'), wireSlot(D5, '06:00')]);
      harness.simulator.setFaults({ failNext: 1 });
      expect(await sync.syncProductDate(P, D5, 'today')).toMatchObject({
        outcome: 'failed',
        errorOutcome: 'server_error',
      });
      expect(await answers(prisma, D5)).toEqual(before);

      harness.simulator.setFaults({ failNext: 0 });
      harness.simulator.setInventory(P, D5, [
        wireSlot(D5, '04:00', 1),
        { ...wireSlot(D5, '06:00'), providerSlotId: `14_${D2}T04:00` },
      ]);
      expect(await sync.syncProductDate(P, D5, 'today')).toMatchObject({
        outcome: 'failed',
        errorOutcome: 'slot_date_conflict',
      });
      expect(await answers(prisma, D5)).toEqual(before);
    });
  });

  describe('big product-dates', () => {
    it(
      'stores 5,000 slots × 3 pax in one sync, then writes nothing when unchanged',
      async () => {
        harness.simulator.setFaults({ slotsPerAnswer: 5000 });
        const r = await sync.syncProductDate(P, BIG, 'today');
        expect(r).toMatchObject({ outcome: 'changed', error: null });
        const counts = await prisma.$queryRaw<Array<{ slots: number; pax: number }>>`
        SELECT count(DISTINCT s.id)::int AS slots, count(p.id)::int AS pax
          FROM slots s LEFT JOIN pax_availability p ON p.slot_id = s.id
         WHERE s.product_id = ${P} AND s.date = ${BIG}::date`;
        expect(counts).toEqual([{ slots: 5000, pax: 15000 }]);
        expect(await syncState(prisma, BIG)).toMatchObject({
          slotCount: 5000,
          lastOutcome: 'changed',
        });
        const answer = await answers(prisma, BIG);
        expect(answer.stored).toBe(answer.live);
        expect(JSON.parse(answer.stored!)).toHaveLength(5000);

        const before = await rowVersions(prisma, BIG);
        expect((await sync.syncProductDate(P, BIG, 'today')).outcome).toBe('unchanged');
        expect(await rowVersions(prisma, BIG)).toEqual(before);
      },
      BIG_TIMEOUT_MS,
    );

    it(
      'removes the slots a big product-date lost and keeps the rest untouched',
      async () => {
        const before = await rowVersions(prisma, BIG);
        harness.simulator.setFaults({ slotsPerAnswer: 4000 });
        expect((await sync.syncProductDate(P, BIG, 'today')).outcome).toBe('changed');
        const after = await rowVersions(prisma, BIG);
        expect(after).toHaveLength(4000 * 4);
        const kept = new Set(after);
        expect(before.filter((v) => kept.has(v))).toHaveLength(4000 * 4);
      },
      BIG_TIMEOUT_MS,
    );
  });
});

describe('the store on the embedded database (PGlite)', () => {
  let dir: string;
  let embedded: EmbeddedPostgres;
  let prisma: PrismaService;
  let store: ProductDateStore;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'inv-integrity-'));
    embedded = await EmbeddedPostgres.start(dir);
    await migrate(embedded.connectionString);
    prisma = new PrismaService({ url: embedded.connectionString, poolSize: 1, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    // No partner: the store is driven directly with validated answers.
    store = productDateStoreOn(prisma);
  }, 60_000);

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, leaves unchanged rows alone, updates, deletes and refuses another date', async () => {
    const answer = (slots: WireSlot[]) => parsePartnerInventory(structuredClone(slots), D2);
    expect(await store.store(P, D2, answer(D2_SLOTS))).toBe(true);
    expect(await stored(prisma, D2)).toEqual(expectedD2);
    const before = await rowVersions(prisma, D2);
    expect(await store.store(P, D2, answer(D2_SLOTS))).toBe(false);
    expect(await rowVersions(prisma, D2)).toEqual(before);

    expect(await store.store(P, D2, answer([wireSlot(D2, '04:00', 199.99)]))).toBe(true);
    expect(await stored(prisma, D2)).toEqual([`14_${D2}T04:00 199.99/43`]);
    const after = await answers(prisma, D2);
    expect(after.stored).toBe(after.live);
    expect(shown(after.stored)).toEqual([`14_${D2}T04:00 199.99`]);

    const conflict = parsePartnerInventory(structuredClone([wireSlot(D2, '04:00')]), D2).map(
      (s) => ({ ...s, startDate: D1 }),
    );
    await expect(store.store(P, D1, conflict)).rejects.toBeInstanceOf(SlotDateConflictError);
    expect(await stored(prisma, D1)).toEqual([]);
    expect((await answers(prisma, D1)).stored).toBeNull();
    expect(await answers(prisma, D2)).toEqual(after);
  });

  it(
    'stores 2,500 slots × 3 pax in one transaction',
    async () => {
      const big = parsePartnerInventory(bigInventory(P, BIG, 2500), BIG);
      expect(await store.store(P, BIG, big)).toBe(true);
      expect(await prisma.paxAvailability.count({ where: { slot: { date: toDbDate(BIG) } } })).toBe(
        7500,
      );
    },
    BIG_TIMEOUT_MS,
  );
});
