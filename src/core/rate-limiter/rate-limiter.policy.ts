/** Pure rules of the partner budget, kept apart from the limiter so they can be table-tested. */

/**
 * Extra length added to the window a key's pace is computed for: it absorbs timer slop and the
 * variable delay between a start and the partner counting it (network, start guards).
 * 1% of the window, at least 25 ms, at most 500 ms.
 */
export function jitterMarginMs(windowMs: number): number {
  return Math.min(500, Math.max(25, Math.round(windowMs * 0.01)));
}

/** Starts in `starts` (ascending ms) that fall within the `lengthMs` ending at `now`. */
export function startsWithin(starts: readonly number[], now: number, lengthMs: number): number {
  let n = 0;
  for (let i = starts.length - 1; i >= 0 && starts[i] > now - lengthMs; i--) n++;
  return n;
}

/**
 * Bottleneck's minTime for a key: starts at least this far apart can never put more than `limit`
 * of them in any sliding window of `windowMs` (limit starts span (limit − 1) · minTime, which is
 * shorter than the window only by the margin's share), whatever the phase of the window.
 */
export function minTimeMs(windowMs: number, marginMs: number, limit: number): number {
  return Math.ceil((windowMs + marginMs) / Math.max(1, limit));
}

/**
 * After a 429 the key is shared with someone we cannot see: pace ourselves, for a window, at one
 * call less than the partner accepted from us in the window (our starts minus our rejected ones),
 * never less than 1. Exactly what was accepted would keep the shared window full to the last
 * call, and the foreign consumer's slightest jitter would give the next 429.
 */
export function limitAfterRateLimit(
  ownStartsInWindow: number,
  ownRejectedInWindow: number,
): number {
  return Math.max(1, ownStartsInWindow - ownRejectedInWindow - 1);
}

/** A rate-limit hint further ahead than this many windows is capped to it. */
export const MAX_HOLD_WINDOWS = 2;

export interface RateLimitHold {
  /** Epoch ms until which the key waits. */
  until: number;
  /** Epoch ms the partner's hints asked for (plus the margin), or null without a hint. */
  hintedUntil: number | null;
  /** True when the hint was more than MAX_HOLD_WINDOWS windows ahead and the hold was cut. */
  capped: boolean;
}

/**
 * How long a key waits after a 429: the latest hint plus the margin, but never more
 * than MAX_HOLD_WINDOWS windows (the partner's window is sliding, so a later "reset" is a bug or
 * a misread unit; obeying it stalled every product for up to a day). Without a hint 1 s, 2 s,
 * 4 s… up to one window, by the number of 429s in a row.
 */
export function holdAfterRateLimit(
  now: number,
  hintedAt: number | null,
  windowMs: number,
  marginMs: number,
  consecutive: number,
): RateLimitHold {
  if (hintedAt === null) {
    const backoff = Math.min(windowMs, 1000 * 2 ** Math.min(10, Math.max(0, consecutive - 1)));
    return { until: now + backoff, hintedUntil: null, capped: false };
  }
  const hintedUntil = hintedAt + marginMs;
  const cap = now + MAX_HOLD_WINDOWS * windowMs;
  return hintedUntil > cap
    ? { until: cap, hintedUntil, capped: true }
    : { until: hintedUntil, hintedUntil, capped: false };
}

/**
 * The most calls one key can have in flight when every call lasts its whole deadline: sends are
 * at least `minTime` apart and each ends by `timeoutMs`, so ⌈timeout ÷ minTime⌉ + 1 overlap at
 * most. A key's in-flight cap of that size never holds back a send the pace allows, whatever the
 * partner does with the calls already sent (a hung product answering one byte at a time); `bound`
 * (PARTNER_MAX_CONCURRENCY) caps it.
 */
export function keyConcurrency(timeoutMs: number, minTime: number, bound: number): number {
  const needed = Math.ceil(Math.max(0, timeoutMs) / Math.max(1, minTime)) + 1;
  return Math.max(1, Math.min(bound, needed));
}
