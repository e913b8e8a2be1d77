/**
 * Freshness of one product-date: how old its stored data is relative to the interval of the
 * window that keeps it fresh. Pure functions; the operator's page and the freshness endpoint use them.
 */

export type FreshnessState = 'fresh' | 'due' | 'stale' | 'never' | 'failed';

/** One letter per state, so a row of 60 dates is a 60-character string in the JSON. */
export const FRESHNESS_CODES: Readonly<Record<FreshnessState, string>> = {
  fresh: 'f',
  due: 'd',
  stale: 's',
  never: 'n',
  failed: 'x',
};

export const FRESHNESS_STATES: readonly FreshnessState[] = [
  'fresh',
  'due',
  'stale',
  'never',
  'failed',
];

/** The range of day offsets (from today) a sync interval applies to. */
export interface FreshnessBand {
  fromDay: number;
  toDay: number;
  intervalSeconds: number;
}

/**
 * How often each range of dates is refreshed by the schedule: today every 15 minutes, the next
 * six days every 4 hours, the rest of the month daily, days 30..59 weekly (the extended window).
 */
export const FRESHNESS_BANDS: readonly FreshnessBand[] = [
  { fromDay: 0, toDay: 0, intervalSeconds: 15 * 60 },
  { fromDay: 1, toDay: 6, intervalSeconds: 4 * 3600 },
  { fromDay: 7, toDay: 29, intervalSeconds: 24 * 3600 },
  { fromDay: 30, toDay: 59, intervalSeconds: 7 * 24 * 3600 },
];

/** Number of dates in the matrix: today .. today+59. */
export const FRESHNESS_DAYS = 60;

/** The refresh interval for a date `dayOffset` days from today (past the last band: the last one). */
export function intervalForDay(dayOffset: number): number {
  const band = FRESHNESS_BANDS.find((b) => dayOffset >= b.fromDay && dayOffset <= b.toDay);
  return (band ?? FRESHNESS_BANDS[FRESHNESS_BANDS.length - 1]).intervalSeconds;
}

/** What is known about one product-date's syncs (a product_date_syncs row, or nothing). */
export interface ProductDateSyncFacts {
  lastAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  lastOutcome: string | null;
  lastError: string | null;
}

// Outcomes that are not a failure of the attempt itself (stored, unchanged, or still running).
const NON_FAILURE_OUTCOMES = new Set([
  'ok',
  'success',
  'succeeded',
  'stored',
  'changed',
  'unchanged',
  'running',
  'queued',
]);

/** True when the latest attempt happened after the latest success and did not succeed. */
export function lastAttemptFailed(facts: ProductDateSyncFacts): boolean {
  const { lastAttemptAt, lastSuccessAt, lastOutcome, lastError } = facts;
  if (!lastAttemptAt) return false;
  if (lastSuccessAt && lastAttemptAt.getTime() <= lastSuccessAt.getTime()) return false;
  if (lastOutcome !== null) return !NON_FAILURE_OUTCOMES.has(lastOutcome.toLowerCase());
  return lastError !== null;
}

/**
 * fresh: synced within one interval; due: older than one interval; stale: older than two;
 * never: no successful sync and no failed attempt; failed: the last attempt failed after the last
 * success (it wins over age: the operator must see that refreshing is not working).
 */
export function classifyFreshness(
  facts: ProductDateSyncFacts | undefined,
  intervalSeconds: number,
  now: Date,
): FreshnessState {
  if (!facts) return 'never';
  if (lastAttemptFailed(facts)) return 'failed';
  if (!facts.lastSuccessAt) return 'never';
  const ageSeconds = (now.getTime() - facts.lastSuccessAt.getTime()) / 1000;
  if (ageSeconds > 2 * intervalSeconds) return 'stale';
  if (ageSeconds > intervalSeconds) return 'due';
  return 'fresh';
}
