import { Logger } from '@nestjs/common';
import { Writable } from 'node:stream';
import { PrismaService } from '../src/core/prisma.service';
import { toDbDate } from '../src/inventory/calendar';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { InventoryEvents } from '../src/inventory/inventory-events';
import { productDateStoreOn } from './support/product-date-store';
import { SyncService } from '../src/inventory/sync/sync.service';
import type { WirePax, WireSlot } from '../src/partner/simulator/simulator-data';
import { AppLogger } from '../src/ops/app-logger';
import { startPartnerHarness, type PartnerHarness } from './support/partner-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const P = 14;
const D = '2026-12-03';

function pax(type: string, over: Partial<WirePax> = {}): WirePax {
  return {
    type,
    name: type,
    description: `${type} years`,
    min: 0,
    max: 20,
    remaining: 1000,
    price: { finalPrice: 43, originalPrice: 143, discount: 100, currencyCode: 'SGD' },
    ...over,
  };
}

function slot(time: string, paxList: WirePax[], over: Partial<WireSlot> = {}): WireSlot {
  return {
    startDate: D,
    startTime: time,
    endTime: time,
    providerSlotId: `14_${D}T${time}`,
    remaining: 2000,
    currencyCode: 'SGD',
    variantId: 32,
    paxAvailability: paxList,
    ...over,
  };
}

const GOOD: WireSlot[] = [
  slot('04:00', [pax('ADULT_12~99', { isPrimary: true }), pax('CHILD_3~11')]),
  slot('04:30', [pax('ADULT_12~99', { isPrimary: true }), pax('CHILD_3~11')]),
];

/** Every stored row of the product-date with its row version (xmin): equal = not written. */
async function rowVersions(prisma: PrismaService): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ v: string }>>`
    SELECT concat_ws('|', 'slot', s.provider_slot_id, s.xmin::text) AS v
      FROM slots s WHERE s.product_id = ${P} AND s.date = ${D}::date
    UNION ALL
    SELECT concat_ws('|', 'pax', s.provider_slot_id, p.type, p.name, p.xmin::text)
      FROM pax_availability p JOIN slots s ON s.id = p.slot_id
     WHERE s.product_id = ${P} AND s.date = ${D}::date
    UNION ALL
    SELECT concat_ws('|', 'answer', a.xmin::text, md5(a.body))
      FROM slot_answers a WHERE a.product_id = ${P} AND a.date = ${D}::date
    ORDER BY 1`;
  return rows.map((r) => r.v);
}

describe('odd bytes in a partner answer, fetched over HTTP from the simulator into PostgreSQL', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let harness: PartnerHarness;
  let sync: SyncService;
  let logs = '';

  /** Pins the partner's answer for the product-date through the simulator's HTTP control API. */
  async function pin(slots: WireSlot[]): Promise<void> {
    const res = await fetch(`${harness.url}/__sim/inventory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: P, date: D, slots }),
    });
    expect(res.status).toBe(200);
  }

  const state = () =>
    prisma.productDateSync.findUniqueOrThrow({
      where: { productId_date: { productId: P, date: toDbDate(D) } },
    });

  beforeAll(async () => {
    Logger.overrideLogger(
      new AppLogger({
        level: 'debug',
        format: 'json',
        secrets: [],
        destination: new Writable({
          write(chunk: Buffer, _enc, done) {
            logs += chunk.toString();
            done();
          },
        }),
      }),
    );
    db = await createTestDatabase('inv_oddbytes');
    prisma = new PrismaService({ url: db.url, poolSize: 4, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    harness = await startPartnerHarness({
      sim: { rateLimit: 100, windowMs: 1000 },
      limiter: { breakerThreshold: 100 },
    });
    const dueList = new DueListRepository(prisma);
    const store = productDateStoreOn(prisma, { dueList });
    sync = new SyncService(store, harness.gateway, new InventoryEvents());
  });

  afterAll(async () => {
    await harness?.close();
    await prisma?.onModuleDestroy();
    await db?.drop();
    Logger.overrideLogger(false);
  });

  const mutations: Array<[string, (s: WireSlot[]) => void, string, string]> = [
    [
      'a NUL in a pax name',
      (s) => (s[0].paxAvailability[0].name = 'Ad\u0000ult'),
      '[0].paxAvailability[0].name',
      'must not contain U+0000 (NUL)',
    ],
    [
      'a NUL in a pax description',
      (s) => (s[1].paxAvailability[1].description = '3-11\u0000'),
      '[1].paxAvailability[1].description',
      'must not contain U+0000 (NUL)',
    ],
    [
      'a NUL in a pax type',
      (s) => (s[1].paxAvailability[0].type = 'ADULT\u0000'),
      '[1].paxAvailability[0].type',
      'must not contain U+0000 (NUL)',
    ],
    [
      'a NUL in a providerSlotId',
      (s) => (s[1].providerSlotId = `14_${D}\u0000`),
      '[1].providerSlotId',
      'must not contain U+0000 (NUL)',
    ],
    [
      'a pax type of 65 characters',
      (s) => (s[0].paxAvailability[1].type = 'C'.repeat(65)),
      '[0].paxAvailability[1].type',
      "must be at most 64 characters (its column's size)",
    ],
    [
      'a lone surrogate in a pax name',
      (s) => (s[0].paxAvailability[0].name = 'Adult \uD83D'),
      '[0].paxAvailability[0].name',
      'holds a lone UTF-16 surrogate',
    ],
  ];

  it.each(mutations)(
    'records %s as invalid_payload naming the field and the limit; stored data untouched',
    async (_name, mutate, field, reason) => {
      await pin(GOOD);
      await sync.syncProductDate(P, D, 'today');
      expect((await state()).lastOutcome).toMatch(/changed|unchanged/);
      // Due again, so a failure takes the due list's usual backoff.
      await prisma.$executeRaw`
        UPDATE product_date_syncs SET due_since = now(), failed_attempts = 0, next_attempt_at = NULL
         WHERE product_id = ${P} AND date = ${D}::date`;
      const before = await rowVersions(prisma);
      logs = '';

      const odd = structuredClone(GOOD);
      mutate(odd);
      await pin(odd);
      const r = await sync.syncProductDate(P, D, 'today');

      expect(r).toMatchObject({ outcome: 'failed', errorOutcome: 'invalid_payload' });
      const s = await state();
      expect(s.lastOutcome).toBe('invalid_payload');
      expect(s.lastError).toContain(`Partner sent an invalid payload at ${field}: `);
      expect(s.lastError).toContain(reason);
      expect(s.failedAttempts).toBe(1);
      expect(s.nextAttemptAt!.getTime()).toBeGreaterThan(s.lastAttemptAt!.getTime());
      expect(s.dueSince).not.toBeNull();
      expect(await rowVersions(prisma)).toEqual(before);
      // A warning about the partner's data, not a store failure at error level.
      const lines = logs
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(logs).not.toContain('store_failed');
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: 'sync failed', outcome: 'invalid_payload' }),
      );
    },
  );

  it('records a body that is not UTF-8 as invalid_payload; stored data untouched', async () => {
    await pin(GOOD);
    await sync.syncProductDate(P, D, 'today');
    const before = await rowVersions(prisma);
    const faults = (invalidUtf8: boolean) =>
      fetch(`${harness.url}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ invalidUtf8 }),
      });
    await faults(true);
    try {
      const r = await sync.syncProductDate(P, D, 'today');
      expect(r).toMatchObject({ outcome: 'failed', errorOutcome: 'invalid_payload' });
      expect((await state()).lastError).toMatch(
        /^Partner sent an invalid payload at \(body\): body is not valid UTF-8 \(byte 0xff at offset \d+\)$/,
      );
      expect(await rowVersions(prisma)).toEqual(before);
    } finally {
      await faults(false);
    }
  });

  it('stores odd but valid answers as sent', async () => {
    const sent: WireSlot[] = [
      // Ends before it starts; two primary pax types (the second cheaper); min over max; more
      // seats for a pax type than the slot; a final price over the original, a discount that is
      // not their difference, and another currency than the slot's.
      slot(
        '09:00',
        [
          pax('ADULT', { isPrimary: true, min: 5, max: 2 }),
          pax('SENIOR', {
            isPrimary: true,
            remaining: 5000,
            price: { finalPrice: 10, originalPrice: 5, discount: 7, currencyCode: 'EUR' },
          }),
        ],
        { endTime: '08:00', remaining: 3 },
      ),
      // No primary type: its price is the first type's. Text with controls and emoji, a name and
      // a description of their column's size, empty ones: kept as sent (no trim, no normalisation).
      slot(
        '10:00',
        [
          pax('CHILD', {
            name: ` Child\t😀 e\u0301 `,
            description: 'line 1\nline 2\u0001\u007f\u0085',
          }),
          pax('INFANT', { name: 'n'.repeat(255), description: 'd'.repeat(1000) }),
          pax('SENIOR', { name: '', description: '' }),
        ],
        { startTime: '10:00', endTime: '10:00', providerSlotId: '😀'.repeat(255) },
      ),
      // No pax type at all: stored, but the read API leaves it out (nothing to book).
      slot('11:00', []),
    ];
    await pin(sent);
    const r = await sync.syncProductDate(P, D, 'today');
    expect(r).toMatchObject({ outcome: 'changed', errorOutcome: null });

    const rows = await prisma.slot.findMany({
      where: { productId: P, date: toDbDate(D) },
      include: { pax: { orderBy: { position: 'asc' } } },
      orderBy: { startTime: 'asc' },
    });
    expect(
      rows.map((s) => ({
        startTime: s.startTime,
        endTime: s.endTime,
        providerSlotId: s.providerSlotId,
        remaining: s.remaining,
        pax: s.pax.map((p) => ({
          type: p.type,
          name: p.name,
          description: p.description,
          min: p.min,
          max: p.max,
          remaining: p.remaining,
          isPrimary: p.isPrimary,
          price: [p.finalPrice, p.originalPrice, p.discount].map(Number),
          currencyCode: p.currencyCode,
        })),
      })),
    ).toEqual(
      sent.map((s) => ({
        startTime: s.startTime,
        endTime: s.endTime,
        providerSlotId: s.providerSlotId,
        remaining: s.remaining,
        pax: s.paxAvailability.map((p) => ({
          type: p.type,
          name: p.name,
          description: p.description,
          min: p.min,
          max: p.max,
          remaining: p.remaining,
          isPrimary: p.isPrimary === true,
          price: [p.price.finalPrice, p.price.originalPrice, p.price.discount],
          currencyCode: p.price.currencyCode,
        })),
      })),
    );

    const [answer] = await prisma.$queryRaw<Array<{ body: string }>>`
      SELECT body FROM slot_answers WHERE product_id = ${P} AND date = ${D}::date`;
    const shown = JSON.parse(answer.body) as Array<{
      startTime: string;
      providerSlotId: string;
      price: { finalPrice: number; currencyCode: string };
      paxAvailability: Array<{ name: string; description: string }>;
    }>;
    expect(shown.map((s) => [s.startTime, s.price.finalPrice, s.price.currencyCode])).toEqual([
      ['09:00', 43, 'SGD'],
      ['10:00', 43, 'SGD'],
    ]);
    expect(shown[1].providerSlotId).toBe('😀'.repeat(255));
    expect(shown[1].paxAvailability[0]).toMatchObject({
      name: ` Child\t😀 e\u0301 `,
      description: 'line 1\nline 2\u0001\u007f\u0085',
    });
  });
});
