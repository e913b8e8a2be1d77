import { dueRetryDelayMs, productDateKey, runOutcome } from './due-list';

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
