import {
  dueRetryDelayMs,
  MARK_BATCH_PRODUCT_DATES,
  markBatches,
  productDateKey,
  runOutcome,
} from './due-list';

describe('dueRetryDelayMs', () => {
  it.each([
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [6, 960_000],
    [7, 1_800_000],
    [20, 1_800_000],
    [0, 30_000],
  ])('after %i failures waits %i ms', (failures, ms) => {
    expect(dueRetryDelayMs(failures)).toBe(ms);
  });
});

describe('runOutcome', () => {
  it.each([
    [{ succeeded: 14, failed: 0 }, 'ok'],
    [{ succeeded: 0, failed: 0 }, 'ok'],
    [{ succeeded: 3, failed: 2 }, 'partial'],
    [{ succeeded: 0, failed: 2 }, 'failed'],
  ])('%p → %s', (progress, outcome) => {
    expect(runOutcome(progress)).toBe(outcome);
  });
});

describe('productDateKey', () => {
  it('names a product-date the way the due list excludes in-flight ones', () => {
    expect(productDateKey(14, '2026-12-01')).toBe('14:2026-12-01');
  });
});

describe('markBatches', () => {
  const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

  it.each([
    [5000, 60, 61, 83],
    [5000, 30, 31, 166],
    [5000, 1, 1, 5000],
    [2, 60, 1, 2],
  ])(
    '%i products × %i days: %i batches of at most %i products',
    (products, days, batches, most) => {
      const out = markBatches(ids(products), days);
      expect(out).toHaveLength(batches);
      expect(Math.max(...out.map((b) => b.length))).toBe(most);
      expect(out.flat()).toEqual(ids(products));
      for (const b of out) expect(b.length * days).toBeLessThanOrEqual(MARK_BATCH_PRODUCT_DATES);
    },
  );

  it('gives a batch of one product when one product has more dates than a batch holds', () => {
    expect(markBatches([7, 8], MARK_BATCH_PRODUCT_DATES * 2)).toEqual([[7], [8]]);
  });

  it('gives no batch for no products', () => {
    expect(markBatches([], 60)).toEqual([]);
  });
});
