import type { HorizonName } from '../policy/sync-policy';
import type { HorizonAccuracy } from './accuracy.types';
import { changeRateMle, type IntervalBucket } from './change-rate';

/**
 * A horizon's estimate from its observations and, for its product-dates, the sum of
 * P(fresh) = exp(-rate × age) over those synced (`freshSum`): never-synced product-dates count as
 * stale. Reads are weighted uniformly over product-dates until read demand is counted.
 */
export function horizonAccuracy(input: {
  name: HorizonName;
  buckets: readonly IntervalBucket[];
  productDates: number;
  freshSum: number;
}): HorizonAccuracy {
  const { ratePerSecond, observations, changed } = changeRateMle(input.buckets);
  return {
    name: input.name,
    changeRatePerHour: ratePerSecond === null ? null : ratePerSecond * 3600,
    observations,
    changed,
    expectedFreshReads:
      ratePerSecond === null || input.productDates <= 0
        ? null
        : Math.min(1, Math.max(0, input.freshSum / input.productDates)),
  };
}

/** The overall share over the horizons with an estimate, each weighted by its product-dates. */
export function overallFreshReads(
  horizons: ReadonlyArray<{ expectedFreshReads: number | null; productDates: number }>,
): number | null {
  let weight = 0;
  let sum = 0;
  for (const h of horizons) {
    if (h.expectedFreshReads === null || h.productDates <= 0) continue;
    weight += h.productDates;
    sum += h.expectedFreshReads * h.productDates;
  }
  return weight > 0 ? sum / weight : null;
}
