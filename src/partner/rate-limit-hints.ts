/**
 * Reading the partner's rate-limit hints. Only the body's rateLimitState.reset (epoch ms) is
 * confirmed; Retry-After and X-RateLimit-Reset are honoured when present, whichever waits longest.
 * Hints are read as they are, however far ahead: the limiter caps the hold (holdAfterRateLimit),
 * where the window is known. Until then a 24 h bound here let a reset 23 h ahead hold the queue
 * until the next day.
 */

/** The latest instant a Date can hold; anything beyond is garbage, not a hint. */
const MAX_DATE_MS = 8.64e15;

/** rateLimitState.reset → Date. Tolerates epoch seconds; ignores anything absurd. */
export function resetFromBody(body: unknown, now: number = Date.now()): Date | null {
  const reset = (body as { rateLimitState?: { reset?: unknown } } | null)?.rateLimitState?.reset;
  const n = typeof reset === 'string' && /^\d+$/.test(reset) ? Number(reset) : reset;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return null;
  const ms = n < 1e11 ? n * 1000 : n; // epoch seconds would be < 1e11 until the year 5138
  // A reset already past says nothing about when the budget is back: the limiter backs off.
  if (ms > MAX_DATE_MS || ms <= now) return null;
  return new Date(ms);
}

/** One header value → wait in ms from now, or null. */
function headerWait(name: string, value: string, now: number): number | null {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    // X-RateLimit-Reset is an epoch (seconds or ms) at some vendors and a delta at others.
    if (n > 1e11) return n - now;
    if (n > 1e9) return n * 1000 - now;
    return n * 1000;
  }
  if (name === 'retry-after') {
    const at = Date.parse(v);
    return Number.isNaN(at) ? null : at - now;
  }
  return null;
}

/** The longest wait hinted by Retry-After / X-RateLimit-Reset headers, or null when none. */
export function retryAfterFromHeaders(
  headers: Record<string, unknown>,
  now: number = Date.now(),
): number | null {
  const waits: number[] = [];
  for (const name of ['retry-after', 'x-ratelimit-reset']) {
    const raw = headers[name];
    if (typeof raw !== 'string' && typeof raw !== 'number') continue;
    const w = headerWait(name, String(raw), now);
    if (w !== null && Number.isFinite(w) && w >= 0 && now + w <= MAX_DATE_MS) waits.push(w);
  }
  return waits.length > 0 ? Math.max(...waits) : null;
}
