/**
 * What the sync learns of each product-date (pure): how often it changes and how often it is read.
 * The value rule (issue 26) ranks a call by these; the store updates the change statistics in its
 * transaction, the read path counts reads, and the benchmark model calls the same functions.
 *
 * Change rate. Each successful sync sees whether the product-date changed since its previous
 * success, `tau` seconds before. For Poisson changes of rate λ the maximum-likelihood λ over
 * irregular intervals solves Σ_changed τ_i ÷ (e^{λτ_i} − 1) = Σ_unchanged τ_j (Cho &
 * Garcia-Molina, TOIT 2003). Taking the changed intervals at their mean τ̄ gives it in closed form,
 * λ = ln(1 + Σ_changed τ ÷ Σ_unchanged τ) ÷ τ̄, from four sums that add up: so they can be kept on
 * the row, decayed, summed over a pool, and evaluated in SQL alike. They decay with a half-life so
 * that a product-date that moves nearer (its rate grows as its day comes) is followed.
 *
 * Pooling: a product-date's sums get its product's dates in the same horizon as a prior worth
 * PRIOR_OBSERVATIONS observations, those get every product's in that horizon, and those a default
 * of DEFAULT_CHANGE_RATE. So a new date starts from its product's and horizon's rate, a new
 * service from the default, and a date that always changed has a finite rate.
 *
 * Reads: a decayed count per product-date; its rate is count × ln 2 ÷ half-life (the steady state
 * of a decayed counter fed at a constant rate).
 */

/** Changes per second assumed before anything is learned: one a day. */
export const DEFAULT_CHANGE_RATE = 1 / 86_400;
/** How many observations a prior (the pool one level up) weighs. */
export const PRIOR_OBSERVATIONS = 2;

/** Decayed sums of a product-date's (or a pool's) observations. */
export interface ChangeStats {
  /** Observations that saw a change, and the sum of their intervals (s). */
  changed: number;
  changedSeconds: number;
  /** Observations that saw none, and the sum of their intervals (s). */
  unchanged: number;
  unchangedSeconds: number;
}

export const NO_CHANGE_STATS: ChangeStats = Object.freeze({
  changed: 0,
  changedSeconds: 0,
  unchanged: 0,
  unchangedSeconds: 0,
});

/** 2^(−elapsed ÷ half-life); 1 when the half-life is not positive (no decay). */
export function decayFactor(elapsedSeconds: number, halfLifeSeconds: number): number {
  if (!(halfLifeSeconds > 0)) return 1;
  return Math.pow(2, -Math.max(0, elapsedSeconds) / halfLifeSeconds);
}

/**
 * The sums after one observation: changed or not since the previous success, `tau` seconds ago.
 * What was learned before decays by the interval (a half-life of watching halves it).
 */
export function observeChange(
  stats: ChangeStats,
  observation: { tauSeconds: number; changed: boolean },
  halfLifeSeconds: number,
): ChangeStats {
  const tau = Math.max(0, observation.tauSeconds);
  const d = decayFactor(tau, halfLifeSeconds);
  const c = observation.changed ? 1 : 0;
  return {
    changed: stats.changed * d + c,
    changedSeconds: stats.changedSeconds * d + c * tau,
    unchanged: stats.unchanged * d + (1 - c),
    unchangedSeconds: stats.unchangedSeconds * d + (1 - c) * tau,
  };
}

/** The rate (per second) the sums give: 0 without a change, Infinity with only changes. */
export function rateOf(stats: ChangeStats): number {
  if (!(stats.changed > 0) || !(stats.changedSeconds > 0)) return 0;
  if (!(stats.unchangedSeconds > 0)) return Infinity;
  const meanTau = stats.changedSeconds / stats.changed;
  return Math.log1p(stats.changedSeconds / stats.unchangedSeconds) / meanTau;
}

/** `own` plus `prior` scaled to PRIOR_OBSERVATIONS observations (prior with none: `own`). */
export function withPrior(own: ChangeStats, prior: ChangeStats): ChangeStats {
  const n = prior.changed + prior.unchanged;
  const w = n > 0 ? PRIOR_OBSERVATIONS / n : 0;
  return {
    changed: own.changed + w * prior.changed,
    changedSeconds: own.changedSeconds + w * prior.changedSeconds,
    unchanged: own.unchanged + w * prior.unchanged,
    unchangedSeconds: own.unchangedSeconds + w * prior.unchangedSeconds,
  };
}

/**
 * The default prior: one changed and one unchanged observation of length ln 2 ÷ rate, whose rate
 * is exactly `rate` (ln(1 + 1) ÷ τ).
 */
export function priorStatsOf(rate: number): ChangeStats {
  const tau = Math.LN2 / rate;
  return { changed: 1, changedSeconds: tau, unchanged: 1, unchangedSeconds: tau };
}

/**
 * A product-date's learned change rate (per second): its own sums with its product's dates in its
 * horizon as prior (`productPool`), with every product's in that horizon as theirs
 * (`horizonPool`), with DEFAULT_CHANGE_RATE as theirs.
 */
export function learnedChangeRate(input: {
  own: ChangeStats;
  productPool: ChangeStats;
  horizonPool: ChangeStats;
}): number {
  const horizon = withPrior(input.horizonPool, priorStatsOf(DEFAULT_CHANGE_RATE));
  const product = withPrior(input.productPool, horizon);
  return rateOf(withPrior(input.own, product));
}

/** A decayed read count, `elapsed` after it was last brought up to date, plus `added` reads. */
export function addReads(
  count: number,
  elapsedSeconds: number,
  added: number,
  halfLifeSeconds: number,
): number {
  return count * decayFactor(elapsedSeconds, halfLifeSeconds) + added;
}

/** Reads per second of a decayed count brought up to date now. */
export function readRate(decayedCount: number, halfLifeSeconds: number): number {
  return halfLifeSeconds > 0 ? (decayedCount * Math.LN2) / halfLifeSeconds : 0;
}
