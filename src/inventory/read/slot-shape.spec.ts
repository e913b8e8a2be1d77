import {
  buildDates,
  buildSlots,
  decimalToNumber,
  pricingPax,
  toApiPrice,
  type SlotPaxRow,
} from './slot-shape';

function row(slotId: number, startTime: string, pax: Partial<SlotPaxRow> | null): SlotPaxRow {
  return {
    slotId,
    startDate: '2025-04-03',
    startTime,
    endTime: startTime,
    providerSlotId: `p_${slotId}`,
    variantId: 32,
    remaining: 2000,
    paxType: null,
    paxName: null,
    paxDescription: null,
    paxMin: null,
    paxMax: null,
    paxRemaining: null,
    paxPosition: null,
    paxIsPrimary: null,
    paxFinalPrice: null,
    paxOriginalPrice: null,
    paxDiscount: null,
    paxCurrencyCode: null,
    ...(pax && {
      paxName: 'n',
      paxDescription: 'd',
      paxMin: 0,
      paxMax: 20,
      paxRemaining: 10,
      paxIsPrimary: false,
      paxDiscount: '0.0000',
      paxCurrencyCode: 'SGD',
      ...pax,
    }),
  };
}

describe('slot shape and price rules', () => {
  it.each([
    ['212.1400', 212.14],
    ['312.14', 312.14],
    ['0.0000', 0],
    ['43', 43],
    ['9999999999.9999', 9999999999.9999],
    ['0.0001', 0.0001],
    ['-5.5000', -5.5],
  ])('decimalToNumber(%j) is exactly %p', (text, expected) => {
    expect(decimalToNumber(text)).toBe(expected);
    expect(JSON.stringify(decimalToNumber(text))).toBe(String(expected));
  });

  it('refuses a value that is not a decimal instead of serving NaN', () => {
    expect(() => decimalToNumber('abc')).toThrow('not a decimal');
  });

  it.each([
    [
      'the primary pax, wherever it is',
      [
        [0, false],
        [1, true],
        [2, false],
      ],
      1,
    ],
    [
      'the first pax by position when none is primary',
      [
        [2, false],
        [0, false],
        [1, false],
      ],
      0,
    ],
    [
      'the first primary by position when several claim it',
      [
        [3, true],
        [1, true],
      ],
      1,
    ],
  ] as const)('prices a slot by %s', (_name, pax, expected) => {
    const chosen = pricingPax(pax.map(([position, isPrimary]) => ({ position, isPrimary })));
    expect(chosen?.position).toBe(expected);
  });

  it('has no pricing pax for a slot without pax', () => {
    expect(pricingPax([])).toBeUndefined();
  });

  it('groups rows into slots, orders pax by position and prices each slot by its primary pax', () => {
    const slots = buildSlots([
      row(2, '04:30', {
        paxType: 'CHILD',
        paxPosition: 1,
        paxFinalPrice: '43.0000',
        paxOriginalPrice: '143.0000',
      }),
      row(2, '04:30', {
        paxType: 'ADULT',
        paxPosition: 0,
        paxIsPrimary: true,
        paxFinalPrice: '212.1400',
        paxOriginalPrice: '312.1400',
      }),
      row(1, '05:00', {
        paxType: 'CHILD',
        paxPosition: 0,
        paxFinalPrice: '43.0000',
        paxOriginalPrice: '143.0000',
      }),
    ]);
    expect(
      slots.map((s) => [s.startTime, s.price.finalPrice, s.paxAvailability.map((p) => p.type)]),
    ).toEqual([
      ['04:30', 212.14, ['ADULT', 'CHILD']],
      ['05:00', 43, ['CHILD']],
    ]);
    expect(slots[0].price).toEqual({
      finalPrice: 212.14,
      originalPrice: 312.14,
      currencyCode: 'SGD',
      discount: 0,
    });
    expect(Object.keys(slots[0].paxAvailability[0])).not.toContain('position');
  });

  it('leaves out a slot stored without any pax (it has no price)', () => {
    const slots = buildSlots([
      row(1, '04:00', null),
      row(2, '04:30', {
        paxType: 'ADULT',
        paxPosition: 0,
        paxFinalPrice: '1',
        paxOriginalPrice: '2',
      }),
    ]);
    expect(slots.map((s) => s.startTime)).toEqual(['04:30']);
  });

  it('maps date rows to { dates } with exact prices', () => {
    expect(
      buildDates([
        {
          date: '2025-04-01',
          finalPrice: '40.2500',
          originalPrice: '45.0000',
          discount: '4.75',
          currencyCode: 'EUR',
        },
      ]),
    ).toEqual({
      dates: [
        {
          date: '2025-04-01',
          price: { finalPrice: 40.25, originalPrice: 45, currencyCode: 'EUR', discount: 4.75 },
        },
      ],
    });
    expect(
      toApiPrice({ finalPrice: '0', originalPrice: '0', discount: '0', currencyCode: 'SGD' })
        .finalPrice,
    ).toBe(0);
  });
});
