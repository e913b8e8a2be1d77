/**
 * Change-rate estimation from what the sync sees (pure). Each successful sync of a product-date
 * observes whether it changed since its previous success, `tau` seconds before. For a product-date
 * changing as a Poisson process of rate lambda, P(changed within tau) = 1 - e^(-lambda tau), so the
 * log-likelihood of the observations is
 *   sum_changed log(1 - e^(-lambda tau_i)) - lambda sum_unchanged tau_j,
 * whose maximum (Cho & Garcia-Molina, "Estimating frequency of change", TOIT 2003) solves
 *   sum_changed tau_i / (e^(lambda tau_i) - 1) = sum_unchanged tau_j.
 * The sync's intervals are irregular (crons, prefetch, manual runs, catch-up), which rules out
 * the regular-interval estimator r = -log((n - X + 0.5)/(n + 0.5)).
 */

/** Intervals are grouped by length so the database returns a few rows, not every observation. */
export const BUCKETS_PER_OCTAVE = 4;

/** Observations of one interval bucket (or one observation: counts 0/1). */
export interface IntervalBucket {
  changed: number;
  unchanged: number;
  /** Sum of the intervals (seconds) of the changed observations. */
  changedSeconds: number;
  /** Sum of the intervals (seconds) of the unchanged observations. */
  unchangedSeconds: number;
}

/** The bucket an interval falls in: intervals within 2^(1/BUCKETS_PER_OCTAVE) of each other. */
export function bucketOf(seconds: number): number {
  return Math.floor(BUCKETS_PER_OCTAVE * Math.log2(Math.max(seconds, 0.001)));
}

/** Sums observations per bucket (what the repository's SQL does). */
export function bucketObservations(
  observations: ReadonlyArray<{ seconds: number; changed: boolean }>,
): IntervalBucket[] {
  const buckets = new Map<number, IntervalBucket>();
  for (const { seconds, changed } of observations) {
    const b = bucketOf(seconds);
    const bucket = buckets.get(b) ?? {
      changed: 0,
      unchanged: 0,
      changedSeconds: 0,
      unchangedSeconds: 0,
    };
    if (changed) {
      bucket.changed++;
      bucket.changedSeconds += seconds;
    } else {
      bucket.unchanged++;
      bucket.unchangedSeconds += seconds;
    }
    buckets.set(b, bucket);
  }
  return [...buckets.values()];
}

export interface ChangeRate {
  /** Estimated changes per second; null without observations. */
  ratePerSecond: number | null;
  observations: number;
  changed: number;
}

/**
 * The maximum-likelihood change rate (per second) of Poisson changes seen over irregular
 * intervals. Within a bucket the changed intervals count at their mean (the bucket's width makes
 * the error small; the unchanged side is exact, it is a plain sum). Edge cases: no observation
 * gives null; none changed gives 0 (the MLE); all changed has no finite MLE, so it falls back to
 * the bias-reduced estimator r = -log(0.5 / (n + 0.5)) over the mean interval.
 */
export function changeRateMle(buckets: readonly IntervalBucket[]): ChangeRate {
  let n = 0;
  let changed = 0;
  let changedSeconds = 0;
  let unchangedSeconds = 0;
  const terms: Array<{ count: number; tau: number }> = [];
  for (const b of buckets) {
    n += b.changed + b.unchanged;
    changed += b.changed;
    changedSeconds += b.changedSeconds;
    unchangedSeconds += b.unchangedSeconds;
    if (b.changed > 0) terms.push({ count: b.changed, tau: b.changedSeconds / b.changed });
  }
  if (n === 0) return { ratePerSecond: null, observations: 0, changed: 0 };
  if (changed === 0) return { ratePerSecond: 0, observations: n, changed };
  if (unchangedSeconds <= 0) {
    const meanTau = changedSeconds / changed;
    const rate = meanTau > 0 ? -Math.log(0.5 / (n + 0.5)) / meanTau : null;
    return { ratePerSecond: rate, observations: n, changed };
  }
  // g decreases from +infinity (lambda -> 0) to -unchangedSeconds: one root, found by bisection
  // on log(lambda) (rates span orders of magnitude; every step is safe, no derivative needed).
  const g = (lambda: number): number => {
    let sum = 0;
    for (const { count, tau } of terms) sum += (count * tau) / Math.expm1(lambda * tau);
    return sum - unchangedSeconds;
  };
  let lo = 1e-12;
  let hi = 1;
  while (g(hi) > 0 && hi < 1e9) hi *= 16;
  while (g(lo) < 0 && lo > 1e-300) lo /= 16;
  for (let i = 0; i < 200 && hi / lo > 1 + 1e-12; i++) {
    const mid = Math.sqrt(lo * hi);
    if (g(mid) > 0) lo = mid;
    else hi = mid;
  }
  return { ratePerSecond: Math.sqrt(lo * hi), observations: n, changed };
}

/** P(a copy synced `ageSeconds` ago is still equal to the source) for Poisson changes. */
export function freshProbability(ratePerSecond: number, ageSeconds: number): number {
  return Math.exp(-ratePerSecond * Math.max(0, ageSeconds));
}
