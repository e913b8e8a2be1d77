import { PartnerInvalidPayloadError } from '../../partner/partner-errors';
import type { PartnerPax, PartnerSlot } from '../../partner/partner.types';
import {
  STORE_TIMEOUT_BASE_MS,
  inventoryHash,
  normalizeDecimal,
  storeColumns,
  storeTimeoutMs,
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

describe('storeColumns', () => {
  it('lays an answer out as one array per column, pax keyed by slot and type in answer order', () => {
    const a = slot('A', {
      paxAvailability: [pax('ADULT', { isPrimary: true }), pax('CHILD', { finalPrice: '43.50' })],
    });
    const b = slot('B', { startTime: '05:00', endTime: '05:30', remaining: 7 });
    const { slots, pax: p } = storeColumns(DATE, [a, b]);
    expect(slots).toEqual({
      providerSlotId: ['A', 'B'],
      startTime: ['04:30', '05:00'],
      endTime: ['04:30', '05:30'],
      variantId: [32, 32],
      remaining: [2000, 7],
      currencyCode: ['SGD', 'SGD'],
    });
    expect(p.providerSlotId).toEqual(['A', 'A', 'B', 'B']);
    expect(p.type).toEqual(['ADULT', 'CHILD', 'ADULT', 'CHILD']);
    expect(p.position).toEqual([0, 1, 0, 1]);
    expect(p.isPrimary).toEqual([true, false, false, false]);
    expect(p.finalPrice).toEqual(['212.14', '43.5', '212.14', '212.14']);
    expect(p.discount).toEqual(['0', '0', '0', '0']);
  });

  it('gives empty columns for an empty day (the store then deletes the whole date)', () => {
    const { slots, pax: p } = storeColumns(DATE, []);
    expect(slots.providerSlotId).toEqual([]);
    expect(p.type).toEqual([]);
  });

  it.each<[string, () => unknown[], string, string]>([
    [
      'a slot of another date',
      () => [slot('A'), slot('B', { startDate: '2025-04-04' })],
      '[1].startDate',
      '2025-04-04 is not the requested date 2025-04-03',
    ],
    [
      'every slot of another date',
      () => [slot('A', { startDate: '2025-04-02' })],
      '[0].startDate',
      '2025-04-02 is not the requested date 2025-04-03',
    ],
    [
      'a providerSlotId twice',
      () => [slot('A'), slot('A')],
      '[1].providerSlotId',
      'duplicate providerSlotId',
    ],
    [
      'a pax type twice in one slot',
      () => [slot('A', { paxAvailability: [pax('ADULT'), pax('ADULT')] })],
      '[0].paxAvailability[1].type',
      'duplicate pax type in one slot',
    ],
  ])('refuses %s, naming the field, before anything is stored', (_what, answer, field, reason) => {
    let error: unknown;
    try {
      storeColumns(DATE, answer() as PartnerSlot[]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PartnerInvalidPayloadError);
    expect(error).toMatchObject({ field, reason });
  });
});

describe('storeTimeoutMs', () => {
  it.each([
    [0, 0, STORE_TIMEOUT_BASE_MS],
    [9, 18, STORE_TIMEOUT_BASE_MS + 27],
    [5000, 15000, STORE_TIMEOUT_BASE_MS + 20000],
  ])('gives %i slots and %i pax rows %i ms', (slots, paxRows, expected) => {
    expect(storeTimeoutMs(slots, paxRows)).toBe(expected);
  });

  it('grows with the answer, never below the 5 s that 2,500 slots used to overrun', () => {
    expect(storeTimeoutMs(5000, 15000)).toBeGreaterThan(storeTimeoutMs(2500, 7500));
    expect(storeTimeoutMs(1, 1)).toBeGreaterThan(5000);
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
