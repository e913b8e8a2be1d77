import { dateRange, daysBetween } from '../calendar';
import { targetSecondsForDay, type SyncPolicy } from '../policy/sync-policy';
import {
  classifyFreshness,
  freshnessBands,
  FRESHNESS_CODES,
  FRESHNESS_STATES,
  type FreshnessBand,
  type FreshnessState,
  type ProductDateSyncFacts,
} from './freshness';

/** One product_date_syncs row as the matrix needs it (date as YYYY-MM-DD). */
export interface ProductDateSyncRow extends ProductDateSyncFacts {
  productId: number;
  date: string;
  slotCount: number;
}

/** The last error of one cell, listed sparsely because most cells have none. */
export interface FreshnessCellError {
  /** Index into `dates`. */
  day: number;
  message: string;
  /** Seconds since the attempt that recorded it, or null when unknown. */
  attemptAgeSeconds: number | null;
}

/** One product's row: parallel arrays indexed like `dates`, kept compact for 450 × 60 cells. */
export interface ProductFreshnessRow {
  productId: number;
  /** One letter per date: f fresh, d due, s stale, n never, x failed (see `codes`). */
  states: string;
  /** Seconds since the last successful sync per date; null when never synced. */
  ageSeconds: (number | null)[];
  /** Slots stored for the date at the last successful sync; null when never synced. */
  slots: (number | null)[];
  errors: FreshnessCellError[];
}

/** The answer of GET /api/v1/experience/sync/freshness. */
export interface FreshnessMatrix {
  generatedAt: string;
  timeZone: string;
  today: string;
  dates: string[];
  codes: Record<string, FreshnessState>;
  bands: FreshnessBand[];
  /** Cells per state over every configured product, whatever the page. */
  counts: Record<FreshnessState, number>;
  /** Which configured products `products` holds: SYNC_PRODUCT_IDS[offset .. offset+limit-1]. */
  page: FreshnessPage;
  products: ProductFreshnessRow[];
}

export interface FreshnessPage {
  offset: number;
  limit: number;
  /** Configured products (SYNC_PRODUCT_IDS). */
  total: number;
}

/**
 * Builds the matrix for `productIds` × today..today+59 from whatever rows the database holds, one
 * object per row: the definition the service's SQL mirrors (DueListRepository.freshnessRows and
 * freshnessCounts), kept as the reference their tests compare against.
 */
export function buildFreshnessMatrix(input: {
  policy: SyncPolicy;
  productIds: readonly number[];
  rows: readonly ProductDateSyncRow[];
  today: string;
  timeZone: string;
  now: Date;
}): FreshnessMatrix {
  const { policy, productIds, rows, today, timeZone, now } = input;
  const days = policy.lastDay + 1;
  const dates = dateRange(today, days);
  const byProduct = new Map<number, Map<number, ProductDateSyncRow>>();
  for (const row of rows) {
    const day = daysBetween(today, row.date);
    if (day < 0 || day >= days) continue;
    let cells = byProduct.get(row.productId);
    if (!cells) byProduct.set(row.productId, (cells = new Map()));
    cells.set(day, row);
  }

  const counts = Object.fromEntries(FRESHNESS_STATES.map((s) => [s, 0])) as Record<
    FreshnessState,
    number
  >;
  const secondsSince = (t: Date | null): number | null =>
    t ? Math.max(0, Math.round((now.getTime() - t.getTime()) / 1000)) : null;

  const products = productIds.map((productId): ProductFreshnessRow => {
    const cells = byProduct.get(productId);
    let states = '';
    const ageSeconds: (number | null)[] = [];
    const slots: (number | null)[] = [];
    const errors: FreshnessCellError[] = [];
    for (let day = 0; day < days; day++) {
      const row = cells?.get(day);
      const state = classifyFreshness(row, targetSecondsForDay(policy, day), now);
      counts[state]++;
      states += FRESHNESS_CODES[state];
      ageSeconds.push(secondsSince(row?.lastSuccessAt ?? null));
      slots.push(row?.lastSuccessAt ? row.slotCount : null);
      if (row?.lastError) {
        errors.push({
          day,
          message: row.lastError,
          attemptAgeSeconds: secondsSince(row.lastAttemptAt),
        });
      }
    }
    return { productId, states, ageSeconds, slots, errors };
  });

  return {
    generatedAt: now.toISOString(),
    timeZone,
    today,
    dates,
    codes: Object.fromEntries(FRESHNESS_STATES.map((s) => [FRESHNESS_CODES[s], s])),
    bands: freshnessBands(policy),
    counts,
    page: { offset: 0, limit: productIds.length, total: productIds.length },
    products,
  };
}
