/** Exponential backoff with full jitter: base·2^(attempt-1), capped, times a random in [0.5, 1). */
export function backoffMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random = Math.random,
): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp * (0.5 + random() / 2));
}

/**
 * A receiver's Retry-After (seconds or an HTTP date) in ms from `now`, at most `capMs`; null when
 * absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now: number, capMs: number): number | null {
  if (!value) return null;
  const v = value.trim();
  let ms: number;
  if (/^\d{1,10}$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.max(0, Math.min(capMs, ms));
}
