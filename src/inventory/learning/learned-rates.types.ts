import type { HorizonName } from '../policy/sync-policy';

/** One horizon of what the value rule learned. */
export interface HorizonLearnedRates {
  name: HorizonName;
  /** Product-dates of the configured products in the horizon that have a sync row. */
  productDates: number;
  /** Mean over them of the learned change rate (changes per hour); null: no product-date. */
  changeRatePerHour: number | null;
  /** Their read demand summed (reads per hour, decayed counts of every instance). */
  readsPerHour: number;
  /**
   * The calls spent on them: their successful syncs in the last hour (after each date's first;
   * change_observations), whatever chose them (floor, value, marks, manual runs).
   */
  syncsLastHour: number;
  /**
   * Expected share of their reads served fresh, Σ μ·e^(−λ·age) ÷ Σ μ over its product-dates
   * (μ read rate, λ learned change rate, age since the last success; never synced: stale); null
   * without reads.
   */
  expectedFreshReads: number | null;
}

/** The `learned` object of the sync status. */
export interface LearnedRatesStatus {
  horizons: HorizonLearnedRates[];
  /** Over every horizon: reads per hour, and the read-weighted expected fresh share (null: no reads). */
  readsPerHour: number;
  expectedFreshReads: number | null;
  /** When it was computed (ISO); one reading is shared by every caller for a few seconds. */
  computedAt: string;
  /** This instance's read counter: product-dates waiting, reads flushed and dropped, last flush. */
  readCounter: {
    pending: number;
    flushedReads: number;
    droppedReads: number;
    lastFlushAt: string | null;
  };
}
