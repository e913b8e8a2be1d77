import { horizonAccuracy, overallFreshReads } from './accuracy-estimate';

describe('horizonAccuracy', () => {
  const half = [{ changed: 5, unchanged: 5, changedSeconds: 3000, unchangedSeconds: 3000 }];
  it.each([
    ['no observation: no rate, no estimate', [], 100, 80, null, null],
    ['a rate and every product-date fresh-summed', half, 10, 5, (-Math.log(0.5) / 600) * 3600, 0.5],
    ['never-synced product-dates count as stale', half, 20, 5, (-Math.log(0.5) / 600) * 3600, 0.25],
    ['no product-date: no estimate', half, 0, 0, (-Math.log(0.5) / 600) * 3600, null],
  ])('%s', (_name, buckets, productDates, freshSum, rate, fresh) => {
    const h = horizonAccuracy({ name: 'today', buckets, productDates, freshSum });
    if (rate === null) expect(h.changeRatePerHour).toBeNull();
    else expect(h.changeRatePerHour).toBeCloseTo(rate, 9);
    expect(h.expectedFreshReads).toBe(fresh);
  });
});

describe('overallFreshReads', () => {
  it.each([
    ['nothing estimated', [{ expectedFreshReads: null, productDates: 10 }], null],
    [
      'weighted by product-dates',
      [
        { expectedFreshReads: 1, productDates: 1 },
        { expectedFreshReads: 0.5, productDates: 3 },
      ],
      0.625,
    ],
    [
      'a horizon without a rate is left out',
      [
        { expectedFreshReads: 0.8, productDates: 6 },
        { expectedFreshReads: null, productDates: 30 },
      ],
      0.8,
    ],
  ])('%s', (_name, horizons, expected) => {
    const overall = overallFreshReads(horizons);
    if (expected === null) expect(overall).toBeNull();
    else expect(overall).toBeCloseTo(expected, 12);
  });
});
