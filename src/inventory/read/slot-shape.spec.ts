import { buildDates, decimalToNumber, toApiPrice } from './slot-shape';

describe('dates shape and price rules', () => {
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
