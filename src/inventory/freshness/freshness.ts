/**
 * Freshness of one product-date: how old its stored data is relative to its SyncPolicy target
 * (the interval of the most frequent window covering it). Pure functions; the operator's page and
 * the freshness endpoint use them.
 */
import type { HorizonName, SyncPolicy } from '../policy/sync-policy';

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

/** A range of day offsets (from today) and how old its data may get: one SyncPolicy horizon. */
export interface FreshnessBand {
  horizon: HorizonName;
  fromDay: number;
  toDay: number;
  intervalSeconds: number;
}

/** The policy's horizons as the freshness answer shows them. */
export function freshnessBands(policy: SyncPolicy): FreshnessBand[] {
  return policy.horizons.map((h) => ({
    horizon: h.name,
    fromDay: h.fromDay,
    toDay: h.toDay,
    intervalSeconds: h.targetSeconds,
  }));
}

/** What is known about one product-date's syncs (a product_date_syncs row, or nothing). */
export interface ProductDateSyncFacts {
  lastAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  lastOutcome: string | null;
  lastError: string | null;
}

/** Outcomes that are not a failure of the attempt itself (stored, unchanged, or still running). */
export const NON_FAILURE_OUTCOMES: readonly string[] = [
  'ok',
  'success',
  'succeeded',
  'stored',
  'changed',
  'unchanged',
  'running',
  'queued',
];
const NON_FAILURE = new Set(NON_FAILURE_OUTCOMES);

/** True when the latest attempt happened after the latest success and did not succeed. */
export function lastAttemptFailed(facts: ProductDateSyncFacts): boolean {
  const { lastAttemptAt, lastSuccessAt, lastOutcome, lastError } = facts;
  if (!lastAttemptAt) return false;
  if (lastSuccessAt && lastAttemptAt.getTime() <= lastSuccessAt.getTime()) return false;
  if (lastOutcome !== null) return !NON_FAILURE.has(lastOutcome.toLowerCase());
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
