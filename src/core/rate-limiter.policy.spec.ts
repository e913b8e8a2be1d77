import {
  jitterMarginMs,
  limitAfterRateLimit,
  limitRecovery,
  nextStartAt,
  retryDelayMs,
  startsWithin,
} from './rate-limiter.policy';

describe('rate limiter policy', () => {
  it.each([
    [1000, 25],
    [6000, 60],
    [60_000, 500],
    [3_600_000, 500],
  ])('jitter margin for a %i ms window is %i ms', (windowMs, margin) => {
    expect(jitterMarginMs(windowMs)).toBe(margin);
  });

  it.each<[number[], number, number, number]>([
    [[], 1000, 1000, 0],
    [[100, 200, 900], 1000, 1000, 3],
    [[0, 100, 200], 1000, 1000, 2], // a start exactly one window old has left it
    [[0, 100, 200], 1100, 1000, 1],
  ])('startsWithin(%j, now=%i, len=%i) = %i', (starts, now, len, expected) => {
    expect(startsWithin(starts, now, len)).toBe(expected);
  });

  it.each<[number[], number, number, number, number]>([
    [[], 500, 1000, 2, 500],
    [[100], 500, 1000, 2, 500],
    [[100, 300], 500, 1000, 2, 1100],
    [[100, 300, 400], 500, 1000, 2, 1300],
    [[100, 300, 400], 500, 1000, 1, 1400],
    [[100, 300, 400], 1350, 1000, 2, 1350],
  ])('nextStartAt(%j, now=%i, len=%i, limit=%i) = %i', (starts, now, len, limit, expected) => {
    expect(nextStartAt(starts, now, len, limit)).toBe(expected);
  });

  it.each<[number, number, number, number, number]>([
    // attempt, base, max, random → delay (half the step plus a random half)
    [1, 1000, 30_000, 0, 500],
    [1, 1000, 30_000, 1, 1000],
    [2, 1000, 30_000, 0.5, 1500],
    [3, 1000, 30_000, 0, 2000],
    [10, 1000, 30_000, 1, 30_000],
  ])(
    'retry %i with base %i, max %i and random %p waits %i ms',
    (attempt, base, max, r, expected) => {
      expect(retryDelayMs(attempt, base, max, () => r)).toBe(expected);
    },
  );

  it.each([
    [16, 1, 15],
    [16, 2, 14],
    [1, 1, 1],
    [0, 0, 1],
  ])(
    'after a 429 with %i own starts and %i rejected in the window, allows %i',
    (own, rejected, allowed) => {
      expect(limitAfterRateLimit(own, rejected)).toBe(allowed);
    },
  );

  it.each([
    [0, 2, 1],
    [1, 1, 2],
    [2, 1, 4],
    [5, 1, 32],
  ])('recovery number %i waits %i clean windows and adds %i', (n, afterWindows, step) => {
    expect(limitRecovery(n)).toEqual({ afterWindows, step });
  });
});
