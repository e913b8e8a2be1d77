import { isRunStalled } from './run-progress';

describe('isRunStalled', () => {
  const NOW = 1_000_000;
  it.each<[string, number, number, boolean]>([
    // case, ms since the last finished product-date, pending product-dates, stalled (after 5 min)
    ['a product-date just finished', 0, 10, false],
    ['quiet for exactly the threshold', 300_000, 10, false],
    ['quiet for longer than the threshold', 300_001, 10, true],
    ['quiet for a day', 86_400_000, 1, true],
    ['nothing left to do, however long ago', 86_400_000, 0, false],
  ])('%s', (_case, sinceMs, pending, expected) => {
    expect(isRunStalled(NOW, NOW - sinceMs, pending, 300_000)).toBe(expected);
  });
});
