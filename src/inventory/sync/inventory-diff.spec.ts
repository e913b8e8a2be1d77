import type { PartnerPax, PartnerSlot } from '../../partner/partner.types';
import {
  diffInventory,
  inventoryHash,
  isEmptyDiff,
  normalizeDecimal,
  type StoredPax,
  type StoredSlot,
} from './inventory-diff';

const DATE = '2025-04-03';

function pax(type: string, over: Partial<PartnerPax> = {}): PartnerPax {
  return {
    type,
    name: type,
    description: 'd',
    min: 0,
    max: 20,
    remaining: 10,
    isPrimary: false,
    finalPrice: '212.14',
    originalPrice: '312.14',
    discount: '0',
    currencyCode: 'SGD',
    ...over,
  };
}

function slot(id: string, over: Partial<PartnerSlot> = {}): PartnerSlot {
  return {
    startDate: DATE,
    startTime: '04:30',
    endTime: '04:30',
    providerSlotId: id,
    remaining: 2000,
    currencyCode: 'SGD',
    variantId: 32,
    paxAvailability: [pax('ADULT'), pax('CHILD')],
    ...over,
  };
}

/** The stored form of a partner slot, as the database would give it back (decimals padded). */
function stored(rowId: number, s: PartnerSlot, date = DATE): StoredSlot {
  return {
    id: rowId,
    date,
    startTime: s.startTime,
    endTime: s.endTime,
    providerSlotId: s.providerSlotId,
    variantId: s.variantId,
    remaining: s.remaining,
    currencyCode: s.currencyCode,
    pax: s.paxAvailability.map((p, position): StoredPax => ({
      id: rowId * 100 + position,
      position,
      type: p.type,
      name: p.name,
      description: p.description,
      min: p.min,
      max: p.max,
      remaining: p.remaining,
      isPrimary: p.isPrimary,
      finalPrice: `${p.finalPrice}00`.replace(/^(\d+)00$/, '$1.0000'),
      originalPrice: p.originalPrice,
      discount: p.discount,
      currencyCode: p.currencyCode,
    })),
  };
}

describe('normalizeDecimal', () => {
  it.each([
    ['212.14', '212.14'],
    ['212.1400', '212.14'],
    ['43', '43'],
    ['43.0000', '43'],
    ['0.0000', '0'],
    ['007.50', '7.5'],
    ['-0.00', '0'],
  ])('writes %s as %s', (input, output) => expect(normalizeDecimal(input)).toBe(output));
});

describe('diffInventory', () => {
  const a = slot('A');
  const b = slot('B', { startTime: '05:00' });

  it.each([
    {
      name: 'an unchanged answer writes nothing',
      stored: [stored(1, a), stored(2, b)],
      incoming: [b, a],
      expect: { create: [], update: [], del: [] },
    },
    {
      name: 'a new slot is created with its pax in order',
      stored: [stored(1, a)],
      incoming: [a, b],
      expect: { create: ['B'], update: [], del: [] },
    },
    {
      name: 'a vanished slot of this date is deleted',
      stored: [stored(1, a), stored(2, b)],
      incoming: [a],
      expect: { create: [], update: [], del: [2] },
    },
    {
      name: 'an empty answer deletes every slot of the date',
      stored: [stored(1, a), stored(2, b)],
      incoming: [],
      expect: { create: [], update: [], del: [1, 2] },
    },
    {
      name: 'a slot of another date is moved, not deleted, when the answer names it',
      stored: [stored(1, a, '2025-04-02')],
      incoming: [a],
      expect: { create: [], update: [1], del: [] },
    },
    {
      name: 'a changed seat count updates only that slot',
      stored: [stored(1, a), stored(2, b)],
      incoming: [a, { ...b, remaining: 1999 }],
      expect: { create: [], update: [2], del: [] },
    },
  ])('$name', ({ stored: rows, incoming, expect: e }) => {
    const diff = diffInventory(DATE, rows, incoming);
    expect(diff.createSlots.map((c) => c.fields.providerSlotId)).toEqual(e.create);
    expect(diff.updateSlots.map((u) => u.id)).toEqual(e.update);
    expect(diff.deleteSlotIds).toEqual(e.del);
    expect(isEmptyDiff(diff)).toBe(e.create.length + e.update.length + e.del.length === 0);
  });

  it('updates one pax price without rewriting the slot row', () => {
    const changed = slot('A', {
      paxAvailability: [pax('ADULT'), pax('CHILD', { finalPrice: '43.01' })],
    });
    const diff = diffInventory(DATE, [stored(1, a)], [changed]);
    expect(diff.updateSlots).toHaveLength(1);
    expect(diff.updateSlots[0].fields).toBeNull();
    expect(diff.updateSlots[0].pax.update).toEqual([
      { id: 101, fields: expect.objectContaining({ type: 'CHILD', finalPrice: '43.01' }) },
    ]);
    expect(diff.updateSlots[0].pax.create).toEqual([]);
  });

  it('adds, removes and reorders pax types by type', () => {
    const changed = slot('A', { paxAvailability: [pax('INFANT'), pax('ADULT')] });
    const { pax: p } = diffInventory(DATE, [stored(1, a)], [changed]).updateSlots[0];
    expect(p.create.map((x) => [x.type, x.position])).toEqual([['INFANT', 0]]);
    expect(p.update.map((x) => [x.id, x.fields.position])).toEqual([[100, 1]]);
    expect(p.deleteIds).toEqual([101]);
  });
});

describe('inventoryHash', () => {
  const a = slot('A');
  const b = slot('B');

  it('ignores the order of slots and the spelling of decimals', () => {
    const padded = slot('A', {
      paxAvailability: [pax('ADULT', { finalPrice: '212.1400' }), pax('CHILD')],
    });
    expect(inventoryHash([a, b])).toBe(inventoryHash([b, padded]));
    expect(inventoryHash([a, b])).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['seats of a slot', slot('A', { remaining: 1 })],
    [
      'a price',
      slot('A', { paxAvailability: [pax('ADULT', { finalPrice: '212.15' }), pax('CHILD')] }),
    ],
    ['the order of pax', slot('A', { paxAvailability: [pax('CHILD'), pax('ADULT')] })],
    [
      'the primary flag',
      slot('A', { paxAvailability: [pax('ADULT', { isPrimary: true }), pax('CHILD')] }),
    ],
  ])('changes when %s changes', (_what, changed) => {
    expect(inventoryHash([changed])).not.toBe(inventoryHash([a]));
  });

  it('tells an empty day from a missing one', () => {
    expect(inventoryHash([])).not.toBe(inventoryHash([a]));
  });
});
