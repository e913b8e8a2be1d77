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
 * Probing back up after a 429, like TCP's congestion window: wait two clean windows, then
 * grow by 1, 2, 4… per further clean window. A steady foreign consumer then costs us about one
 * 429 every three windows; a departed one is noticed within a few windows.
 */
export function limitRecovery(recoveries: number): { afterWindows: number; step: number } {
  return { afterWindows: recoveries === 0 ? 2 : 1, step: 2 ** Math.min(recoveries, 16) };
}
