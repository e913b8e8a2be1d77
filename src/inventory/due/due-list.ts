/** The due list's pure rules and shapes (the SQL is in due-list.repository.ts). */

/** What a run marked due: these products × the dates from..to (YYYY-MM-DD, inclusive). */
export interface RunScope {
  productIds: number[];
  from: string;
  to: string;
}

/** One due product-date, as the dispatcher takes it. */
export interface DueEntry {
  productId: number;
  date: string;
  /** The window, "manual" or "boot" that marked it. */
  reason: string | null;
  manual: boolean;
  failedAttempts: number;
  /** A backing-off product's probe that waits behind the healthy products' work. */
  behind?: boolean;
}

/** Due product-dates per day offset from today. */
export type DueSummary = Array<{
  day: number;
  due: number;
  /** Waiting out the backoff of a failed fetch. */
  backingOff: number;
  manual: number;
  oldestDueSince: Date | null;
}>;

/**
 * Product-dates one mark statement writes at most: a batch is this many product-dates' worth of
 * products (at least one product), so that a mark's statements and transactions stay short
 * whatever the number of products (on the embedded database's one connection above all).
 */
export const MARK_BATCH_PRODUCT_DATES = 5000;

/** A mark's products (in the order given) cut into batches of at most MARK_BATCH_PRODUCT_DATES. */
export function markBatches(productIds: readonly number[], days: number): number[][] {
  const size = Math.max(1, Math.floor(MARK_BATCH_PRODUCT_DATES / Math.max(1, days)));
  const batches: number[][] = [];
  for (let i = 0; i < productIds.length; i += size) batches.push(productIds.slice(i, i + size));
  return batches;
}

const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 30 * 60_000;

/**
 * How long a product-date whose fetch failed `failures` times waits before it may be taken
 * again: 30 s, 1 min, 2 min … at most 30 min. This is the only retry there is (the limiter
 * retries nothing): a timeout or a 5xx is tried again through the budget after 30 s, and the
 * ones that keep failing (a 404, a broken payload) are spaced out so they cannot crowd out the
 * rest of the list, while they stay due and nothing is dropped.
 */
export function dueRetryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

export type RunOutcome = 'ok' | 'partial' | 'failed';

/**
 * A run is finished when none of its product-dates waits for a first attempt since it began;
 * then it is ok when all were stored, partial when some were, failed when none could be.
 * (Product-dates dropped meanwhile — a removed product, a date now past — count as neither.)
 */
export function runOutcome(p: { succeeded: number; failed: number }): RunOutcome {
  if (p.failed === 0) return 'ok';
  return p.succeeded > 0 ? 'partial' : 'failed';
}

export const productDateKey = (productId: number, date: string): string => `${productId}:${date}`;
