import {
  holdAfterRateLimit,
  jitterMarginMs,
  keyConcurrency,
  limitAfterRateLimit,
  minTimeMs,
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

  it.each<[number, number, number, number]>([
    // window, margin, limit → minTime
    [60_000, 500, 30, 2017],
    [6000, 60, 30, 202],
    [1000, 25, 5, 205],
    [1000, 25, 1, 1025],
  ])('a %i ms window with a %i ms margin and limit %i paces starts %i ms apart', (w, m, l, t) => {
    expect(minTimeMs(w, m, l)).toBe(t);
  });

  it.each<[number, number, number]>([
    [60_000, 500, 30],
    [6000, 60, 30],
    [1000, 25, 5],
    [1000, 25, 7],
  ])(
    'starts minTime apart never put more than the limit in a %i ms window (margin %i, limit %i)',
    (w, m, l) => {
      const step = minTimeMs(w, m, l);
      const starts = Array.from({ length: 5 * l }, (_, i) => i * step);
      // The partner's window ending at a start (the tightest ones) is (end - w, end].
      for (const end of starts) {
        expect(starts.filter((t) => t > end - w && t <= end).length).toBeLessThanOrEqual(l);
      }
    },
  );

  it.each([
    [16, 1, 14],
    [16, 2, 13],
    [3, 1, 1],
    [1, 1, 1],
    [0, 0, 1],
  ])(
    'after a 429 with %i own starts and %i rejected in the window, paces at %i per window',
    (own, rejected, allowed) => {
      expect(limitAfterRateLimit(own, rejected)).toBe(allowed);
    },
  );

  const W = 60_000;
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

  it.each<[string, number, number, number, number]>([
    // case, timeout, minTime, bound → calls in flight per key
    ['the real partner: 15 s deadline at 2,017 ms', 15_000, 2017, 32, 9],
    ['a deadline shorter than the pace still lets the next send go', 1000, 2017, 32, 2],
    ['a deadline of exactly 4 paces', 800, 200, 32, 5],
    ['a fast key is capped by the bound', 15_000, 101, 32, 32],
    ['an operator bound of 1 stays 1', 15_000, 2017, 1, 1],
  ])('keyConcurrency: %s', (_case, timeoutMs, minTime, bound, expected) => {
    expect(keyConcurrency(timeoutMs, minTime, bound)).toBe(expected);
  });
});
