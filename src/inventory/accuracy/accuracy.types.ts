import type { HorizonName } from '../policy/sync-policy';

/** One horizon's estimate. */
export interface HorizonAccuracy {
  name: HorizonName;
  /** Estimated changes per hour of one product-date of the horizon; null: no observation yet. */
  changeRatePerHour: number | null;
  /** Successful syncs in the window that followed an earlier success of the same product-date. */
  observations: number;
  /** Of those, how many found the product-date changed. */
  changed: number;
  /** Expected share of the horizon's reads that show the partner's current data (0..1); null: no rate yet. */
  expectedFreshReads: number | null;
}

/** The `accuracy` object of the sync status. */
export interface AccuracyEstimate {
  /** Expected share of reads served fresh over the horizons that have a rate (0..1); null: none yet. */
  expectedFreshReads: number | null;
  horizons: HorizonAccuracy[];
  /** When it was computed (ISO); it is cached for a few seconds. */
  estimatedAt: string;
  /** Observations from this far back count. */
  windowSeconds: number;
  method: string;
  /** The headline over the last 24 h, one sample every 5 minutes (kept in this process's memory). */
  history: Array<{ at: string; expectedFreshReads: number | null }>;
}
