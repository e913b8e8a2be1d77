/* eslint-disable @typescript-eslint/no-explicit-any -- the cases mutate raw partner JSON at arbitrary depths */
import { PartnerInvalidPayloadError } from './partner-errors';
import { decimalString, parsePartnerInventory } from './partner-payload';
import { simulatedInventory, type WireSlot } from './simulator/simulator-data';

/** Product 14 on a Thursday, exactly as the partner sent it (real values). */
const DATE = '2025-04-03';
const realSlots = (): WireSlot[] => simulatedInventory(14, DATE, 1, 0);

function invalid(body: unknown, date = DATE): PartnerInvalidPayloadError {
  try {
    parsePartnerInventory(body, date);
  } catch (err) {
    if (err instanceof PartnerInvalidPayloadError) return err;
    throw err;
  }
  throw new Error('payload was accepted');
}

type Mutation = [string, (slots: Record<string, any>[]) => void, string];

describe('parsePartnerInventory', () => {
  it('accepts the real product-14 payload and keeps prices as exact decimal strings', () => {
    const inv = parsePartnerInventory(JSON.parse(JSON.stringify(realSlots())), DATE);
    expect(inv).toHaveLength(9);
    expect(inv[0]).toMatchObject({
      startDate: '2025-04-03',
      startTime: '04:00',
      providerSlotId: '225532707686_2025-04-03T04:00',
      currencyCode: 'SGD',
      variantId: 32,
    });
    expect(inv[0].paxAvailability[0]).toMatchObject({
      type: 'ADULT_12~99',
      isPrimary: true,
      finalPrice: '212.14',
      originalPrice: '312.14',
      discount: '100',
    });
    expect(inv[0].paxAvailability[1]).toMatchObject({ finalPrice: '43', originalPrice: '143' });
  });

  it('accepts the real product-15 payload with a free infant and an absent isPrimary', () => {
    const inv = parsePartnerInventory(
      JSON.parse(JSON.stringify(simulatedInventory(15, '2025-04-06', 1, 0))),
      '2025-04-06',
    );
    expect(inv).toHaveLength(1);
    expect(inv[0].paxAvailability.map((p) => [p.type, p.finalPrice, p.isPrimary])).toEqual([
      ['ADULT_12~99', '341', true],
      ['CHILD_5~15', '137', false],
      ['INFANT_0~4', '0', false],
    ]);
  });

  it('accepts an empty day', () => {
    expect(parsePartnerInventory([], DATE)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['an object', { slots: [] }, ''],
    ['null', null, ''],
    ['a string', 'oops', ''],
    ['an array holding a number', [1], '[0]'],
    ['an array holding null', [null], '[0]'],
  ])('rejects a body that is %s', (_name, body, field) => {
    expect(invalid(body).field).toBe(field);
  });

  const cases: Mutation[] = [
    ['startDate missing', (s) => delete s[0].startDate, '[0].startDate'],
    ['startDate not a date', (s) => (s[0].startDate = '03/04/2025'), '[0].startDate'],
    ['startTime a number', (s) => (s[0].startTime = 430), '[0].startTime'],
    ['endTime missing', (s) => delete s[2].endTime, '[2].endTime'],
    ['providerSlotId a number', (s) => (s[3].providerSlotId = 5), '[3].providerSlotId'],
    ['providerSlotId empty', (s) => (s[3].providerSlotId = ''), '[3].providerSlotId'],
    [
      'providerSlotId duplicated',
      (s) => (s[4].providerSlotId = s[3].providerSlotId),
      '[4].providerSlotId',
    ],
    ['remaining a string', (s) => (s[1].remaining = '2000'), '[1].remaining'],
    ['remaining negative', (s) => (s[1].remaining = -1), '[1].remaining'],
    ['remaining fractional', (s) => (s[1].remaining = 1.5), '[1].remaining'],
    ['currencyCode lowercase', (s) => (s[0].currencyCode = 'sgd'), '[0].currencyCode'],
    ['variantId a string', (s) => (s[0].variantId = '32'), '[0].variantId'],
    ['paxAvailability missing', (s) => delete s[0].paxAvailability, '[0].paxAvailability'],
    ['paxAvailability an object', (s) => (s[0].paxAvailability = {}), '[0].paxAvailability'],
    ['pax type missing', (s) => delete s[0].paxAvailability[1].type, '[0].paxAvailability[1].type'],
    [
      'pax type duplicated',
      (s) => (s[0].paxAvailability[1].type = 'ADULT_12~99'),
      '[0].paxAvailability[1].type',
    ],
    ['pax name a number', (s) => (s[0].paxAvailability[0].name = 1), '[0].paxAvailability[0].name'],
    ['pax min a string', (s) => (s[5].paxAvailability[0].min = '1'), '[5].paxAvailability[0].min'],
    [
      'pax remaining missing',
      (s) => delete s[5].paxAvailability[0].remaining,
      '[5].paxAvailability[0].remaining',
    ],
    [
      'isPrimary a string',
      (s) => (s[0].paxAvailability[0].isPrimary = 'yes'),
      '[0].paxAvailability[0].isPrimary',
    ],
    ['price missing', (s) => delete s[3].paxAvailability[0].price, '[3].paxAvailability[0].price'],
    [
      'price a number',
      (s) => (s[3].paxAvailability[0].price = 212.14),
      '[3].paxAvailability[0].price',
    ],
    [
      'finalPrice a string',
      (s) => (s[3].paxAvailability[0].price.finalPrice = '212.14'),
      '[3].paxAvailability[0].price.finalPrice',
    ],
    [
      'finalPrice null',
      (s) => (s[3].paxAvailability[0].price.finalPrice = null),
      '[3].paxAvailability[0].price.finalPrice',
    ],
    [
      'finalPrice negative',
      (s) => (s[3].paxAvailability[0].price.finalPrice = -1),
      '[3].paxAvailability[0].price.finalPrice',
    ],
    [
      'finalPrice absurd',
      (s) => (s[3].paxAvailability[0].price.finalPrice = 1e15),
      '[3].paxAvailability[0].price.finalPrice',
    ],
    [
      'finalPrice too precise',
      (s) => (s[3].paxAvailability[0].price.finalPrice = 212.14159),
      '[3].paxAvailability[0].price.finalPrice',
    ],
    [
      'originalPrice missing',
      (s) => delete s[0].paxAvailability[1].price.originalPrice,
      '[0].paxAvailability[1].price.originalPrice',
    ],
    [
      'discount a string',
      (s) => (s[0].paxAvailability[1].price.discount = '0'),
      '[0].paxAvailability[1].price.discount',
    ],
    [
      'price currencyCode missing',
      (s) => delete s[0].paxAvailability[1].price.currencyCode,
      '[0].paxAvailability[1].price.currencyCode',
    ],
  ];

  it.each(cases)('names the field when %s', (_name, mutate, field) => {
    const slots = JSON.parse(JSON.stringify(realSlots())) as Record<string, any>[];
    mutate(slots);
    const err = invalid(slots);
    expect(err.field).toBe(field);
    expect(err.outcome).toBe('invalid_payload');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(field);
  });

  /**
   * Values the old validator let through and PostgreSQL then refused (NUL, a value longer than its
   * column) or silently changed (a lone surrogate became U+FFFD). Each names the field and the limit.
   */
  const VS16 = '\uFE0F'; // a variation selector: validator.js's length leaves it out, PostgreSQL counts it
  const oddBytes: Array<[string, (slots: Record<string, any>[]) => void, string, RegExp]> = [
    [
      'a NUL in a pax name',
      (s) => (s[0].paxAvailability[0].name = 'Ad\u0000ult'),
      '[0].paxAvailability[0].name',
      /U\+0000/,
    ],
    [
      'a NUL in a pax description',
      (s) => (s[2].paxAvailability[1].description = '\u0000'),
      '[2].paxAvailability[1].description',
      /U\+0000/,
    ],
    [
      'a NUL in a pax type',
      (s) => (s[1].paxAvailability[1].type = 'CHILD\u0000'),
      '[1].paxAvailability[1].type',
      /U\+0000/,
    ],
    [
      'a NUL in a providerSlotId',
      (s) => (s[4].providerSlotId += '\u0000'),
      '[4].providerSlotId',
      /U\+0000/,
    ],
    [
      'a pax type of 65 characters',
      (s) => (s[0].paxAvailability[1].type = 'C'.repeat(65)),
      '[0].paxAvailability[1].type',
      /at most 64 characters/,
    ],
    [
      'a pax name of 256 characters',
      (s) => (s[0].paxAvailability[0].name = 'n'.repeat(256)),
      '[0].paxAvailability[0].name',
      /at most 255 characters/,
    ],
    [
      'a providerSlotId of 256 characters',
      (s) => (s[6].providerSlotId = 'p'.repeat(256)),
      '[6].providerSlotId',
      /at most 255 characters/,
    ],
    [
      'a description of 1000 characters plus variation selectors',
      (s) => (s[0].paxAvailability[0].description = 'd'.repeat(999) + `x${VS16}`),
      '[0].paxAvailability[0].description',
      /at most 1000 characters/,
    ],
    [
      'a pax type of 64 characters plus a variation selector',
      (s) => (s[0].paxAvailability[0].type = 't'.repeat(63) + `x${VS16}`),
      '[0].paxAvailability[0].type',
      /at most 64 characters/,
    ],
    [
      'a lone high surrogate in a pax name',
      (s) => (s[0].paxAvailability[0].name = 'Adult \uD83D'),
      '[0].paxAvailability[0].name',
      /lone UTF-16 surrogate/,
    ],
    [
      'a lone low surrogate in a providerSlotId',
      (s) => (s[3].providerSlotId = '\uDE00x'),
      '[3].providerSlotId',
      /lone UTF-16 surrogate/,
    ],
    [
      'swapped surrogates in a description',
      (s) => (s[0].paxAvailability[1].description = '\uDE00\uD83D'),
      '[0].paxAvailability[1].description',
      /lone UTF-16 surrogate/,
    ],
    [
      'a lone surrogate in a pax type',
      (s) => (s[5].paxAvailability[0].type = 'A\uDBFF'),
      '[5].paxAvailability[0].type',
      /lone UTF-16 surrogate/,
    ],
  ];

  it.each(oddBytes)('names the field and the limit for %s', (_name, mutate, field, reason) => {
    // Through JSON text, as the bytes arrive: \u0000 and \uD83D escapes decode to these strings.
    const slots = JSON.parse(JSON.stringify(realSlots())) as Record<string, any>[];
    mutate(slots);
    const err = invalid(JSON.parse(JSON.stringify(slots)));
    expect(err.field).toBe(field);
    expect(err.reason).toMatch(reason);
    expect(err.outcome).toBe('invalid_payload');
    // The reason names the rule, never the value (it goes to last_error, a text column).
    expect(err.message.includes('\u0000')).toBe(false);
    expect(err.message).not.toMatch(/[\uD800-\uDFFF]/);
  });

  it('rejects an answer that carries a slot of another date, naming that slot', () => {
    const slots = JSON.parse(JSON.stringify(realSlots())) as Record<string, any>[];
    // The partner's slot of the next day (same id scheme), slipped into this day's answer.
    slots.push({ ...simulatedInventory(14, '2025-04-06', 1, 0)[0] });
    const err = invalid(slots);
    expect(err.field).toBe('[9].startDate');
    expect(err.reason).toBe('2025-04-06 is not the requested date 2025-04-03');
    expect(err.outcome).toBe('invalid_payload');
  });

  it('rejects an answer whose every slot has a startDate other than the requested date', () => {
    const err = invalid(realSlots(), '2025-04-02');
    expect(err.field).toBe('[0].startDate');
    expect(err.message).toContain('2025-04-03 is not the requested date 2025-04-02');
  });

  it('explains a wrong type rather than the range check it also fails', () => {
    const slots = JSON.parse(JSON.stringify(realSlots())) as Record<string, any>[];
    slots[0].paxAvailability[0].price.finalPrice = '212.14';
    expect(invalid(slots).reason).toMatch(/must be a number/);
  });

  it('keeps the value parsed from JSON text exactly (no float drift)', () => {
    const body = JSON.parse(
      JSON.stringify(realSlots()).replace(/"finalPrice":212\.14/g, '"finalPrice":0.1'),
    );
    expect(parsePartnerInventory(body, DATE)[0].paxAvailability[0].finalPrice).toBe('0.1');
  });
});

describe('decimalString', () => {
  it.each<[number, string | null]>([
    [212.14, '212.14'],
    [43, '43'],
    [0, '0'],
    [0.1, '0.1'],
    [1234.5678, '1234.5678'],
    [9999999999, '9999999999'],
    [1e-7, null],
    [1.23456, null],
    [1e21, null],
  ])('%p → %p', (n, expected) => {
    if (expected === null) expect(() => decimalString(n, 'x')).toThrow(PartnerInvalidPayloadError);
    else expect(decimalString(n, 'x')).toBe(expected);
  });
});
