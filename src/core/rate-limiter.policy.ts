/** Pure rules of the partner budget, kept apart from the queue so they can be table-tested. */

/**
 * Extra length added to our own sliding window. Each start is stamped again when its answer
 * arrives (the partner counted it before answering), which already covers delays on the way; the
 * margin covers the rest: timer slop and a request we gave up on (timeout) that lands late.
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
 * When the next start is allowed: now if fewer than `limit` starts are in the window, else the
 * moment the oldest start that blocks leaves it.
 */
export function nextStartAt(
  starts: readonly number[],
  now: number,
  lengthMs: number,
  limit: number,
): number {
  const inWindow = startsWithin(starts, now, lengthMs);
  if (inWindow < limit) return now;
  // The (inWindow - limit + 1) oldest in-window starts must leave; the last of them decides.
  const first = starts.length - inWindow;
  return starts[first + inWindow - limit] + lengthMs;
}

/** Exponential backoff with full jitter between half and all of the step: base·2^(attempt-1). */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/**
 * After a 429 the key is shared with someone we cannot see: allow ourselves what the partner
 * actually accepted from us in the window (our starts minus our rejected ones), never less than 1.
 */
export function limitAfterRateLimit(
  ownStartsInWindow: number,
  ownRejectedInWindow: number,
): number {
  return Math.max(1, ownStartsInWindow - ownRejectedInWindow);
}

/**
 * The self-imposed limit `sinceMs` after the last 429: the share learned from it for one window,
 * then the whole budget again. A foreign burst that has ended costs us at most that one window
 * (the partner's sliding window has forgotten it by then); a steady foreign consumer costs about
 * one 429 per window, each of them a single call thanks to the slow start that follows a 429.
 * Time-based, so idle time counts as recovery.
 */
export function limitSinceRateLimit(
  limit: number,
  share: number,
  sinceMs: number,
  windowMs: number,
): number {
  return sinceMs < windowMs ? Math.max(1, Math.min(limit, share)) : limit;
}

/** A rate-limit hint further ahead than this many windows is capped to it. */
export const MAX_HOLD_WINDOWS = 2;

export interface RateLimitHold {
  /** Epoch ms until which the whole queue waits. */
  until: number;
  /** Epoch ms the partner's hints asked for (plus the margin), or null without a hint. */
  hintedUntil: number | null;
  /** True when the hint was more than MAX_HOLD_WINDOWS windows ahead and the hold was cut. */
  capped: boolean;
}

/**
 * How long the whole queue waits after a 429: the latest hint plus the margin, but never more
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
