import {
  holdAfterRateLimit,
  jitterMarginMs,
  limitAfterRateLimit,
  limitSinceRateLimit,
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

  const W = 60_000;
  it.each<[string, number, number, number, number]>([
    // case, limit, share, ms since the last 429, expected limit (window W)
    ['right after the 429: the learned share', 30, 15, 0, 15],
    ['late in that window: still the share', 30, 15, W - 1, 15],
    ['one window later: the whole budget', 30, 15, W, 30],
    ['after a long idle time: the whole budget', 30, 1, 3.5 * W, 30],
    ['a foreign burst took everything: at least 1', 30, 0, 1000, 1],
    ['a share above the limit is the limit', 30, 40, 1000, 30],
    ['never rate-limited', 30, 30, Infinity, 30],
  ])('limit since a 429: %s', (_case, limit, share, since, expected) => {
    expect(limitSinceRateLimit(limit, share, since, W)).toBe(expected);
  });

  const NOW = 1_000_000;
  it.each<
    [string, number | null, number, { until: number; hintedUntil: number | null; capped: boolean }]
  >([
    // case, hinted instant, consecutive 429s, expected hold (window W, margin 500)
    [
      'a hint within the window',
      NOW + 20_000,
      1,
      { until: NOW + 20_500, hintedUntil: NOW + 20_500, capped: false },
    ],
    [
      'a hint exactly 2 windows ahead (margin included)',
      NOW + 2 * W - 500,
      1,
      { until: NOW + 2 * W, hintedUntil: NOW + 2 * W, capped: false },
    ],
    [
      'a hint one hour ahead is capped to 2 windows',
      NOW + 3_600_000,
      1,
      { until: NOW + 2 * W, hintedUntil: NOW + 3_600_500, capped: true },
    ],
    [
      'a hint 23 hours ahead is capped to 2 windows',
      NOW + 23 * 3_600_000,
      1,
      { until: NOW + 2 * W, hintedUntil: NOW + 23 * 3_600_000 + 500, capped: true },
    ],
    ['no hint, first 429: 1 s', null, 1, { until: NOW + 1000, hintedUntil: null, capped: false }],
    [
      'no hint, third 429 in a row: 4 s',
      null,
      3,
      { until: NOW + 4000, hintedUntil: null, capped: false },
    ],
    [
      'no hint, many in a row: one window',
      null,
      12,
      { until: NOW + W, hintedUntil: null, capped: false },
    ],
  ])('hold after a 429: %s', (_case, hinted, consecutive, expected) => {
    expect(holdAfterRateLimit(NOW, hinted, W, 500, consecutive)).toEqual(expected);
  });
});
