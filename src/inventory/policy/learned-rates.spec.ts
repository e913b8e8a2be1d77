import {
  addReads,
  decayFactor,
  DEFAULT_CHANGE_RATE,
  learnedChangeRate,
  NO_CHANGE_STATS,
  observeChange,
  priorStatsOf,
  rateOf,
  readRate,
  withPrior,
  type ChangeStats,
} from './learned-rates';

const HOUR = 3_600;
const DAY = 86_400;

/** A seeded uniform in [0, 1) (mulberry32), so the convergence cases are repeatable. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Syncs at irregular intervals of a Poisson process of rate `rate`, summed as the store does. */
function observe(
  stats: ChangeStats,
  rate: number,
  syncs: number,
  u: () => number,
  halfLife: number,
  meanIntervalSeconds: number,
): ChangeStats {
  for (let i = 0; i < syncs; i++) {
    const tau = meanIntervalSeconds * (0.25 + 1.5 * u());
    const changed = u() < -Math.expm1(-rate * tau);
    stats = observeChange(stats, { tauSeconds: tau, changed }, halfLife);
  }
  return stats;
}

describe('learned rates', () => {
  it('decays by half per half-life and not at all without one', () => {
    expect(decayFactor(0, DAY)).toBe(1);
    expect(decayFactor(DAY, DAY)).toBeCloseTo(0.5, 12);
    expect(decayFactor(3 * DAY, DAY)).toBeCloseTo(0.125, 12);
    expect(decayFactor(DAY, 0)).toBe(1);
  });

  it('adds an observation to its side, after decaying the sums by its interval', () => {
    const before: ChangeStats = {
      changed: 2,
      changedSeconds: 100,
      unchanged: 4,
      unchangedSeconds: 400,
    };
    expect(observeChange(before, { tauSeconds: 50, changed: true }, 50)).toEqual({
      changed: 2,
      changedSeconds: 100,
      unchanged: 2,
      unchangedSeconds: 200,
    });
    expect(observeChange(before, { tauSeconds: 60, changed: false }, 0)).toEqual({
      changed: 2,
      changedSeconds: 100,
      unchanged: 5,
      unchangedSeconds: 460,
    });
  });

  it('solves the likelihood equation exactly when every interval is alike', () => {
    // n changed of m intervals τ: e^{-λτ} = unchanged share, so λ = ln(m ÷ (m − n)) ÷ τ.
    const tau = 1_800;
    const stats: ChangeStats = {
      changed: 3,
      changedSeconds: 3 * tau,
      unchanged: 7,
      unchangedSeconds: 7 * tau,
    };
    expect(rateOf(stats)).toBeCloseTo(Math.log(10 / 7) / tau, 15);
    expect(rateOf(NO_CHANGE_STATS)).toBe(0);
    expect(rateOf({ ...NO_CHANGE_STATS, changed: 1, changedSeconds: 60 })).toBe(Infinity);
    expect(rateOf(priorStatsOf(1 / HOUR))).toBeCloseTo(1 / HOUR, 15);
  });

  it.each([
    // rate, mean interval: from far slower to faster than the syncs.
    [1 / (6 * HOUR), HOUR],
    [1 / HOUR, HOUR],
    [2 / HOUR, HOUR],
    [1 / (3 * DAY), 4 * HOUR],
  ])('converges within 15 %% of the true rate %p (syncs every ~%p s)', (rate, interval) => {
    const learned = rateOf(observe(NO_CHANGE_STATS, rate, 3_000, uniform(7), 0, interval));
    expect(learned / rate).toBeGreaterThan(0.85);
    expect(learned / rate).toBeLessThan(1.15);
  });

  it('follows a rate that changes, through the decay', () => {
    const u = uniform(3);
    const slow = observe(NO_CHANGE_STATS, 1 / (12 * HOUR), 500, u, 2 * DAY, HOUR);
    const fast = observe(slow, 1 / HOUR, 6 * 24, u, 2 * DAY, HOUR);
    expect(rateOf(slow) * HOUR).toBeLessThan(0.15);
    expect(rateOf(fast) * HOUR).toBeGreaterThan(0.6);
  });

  it('weighs a prior as PRIOR_OBSERVATIONS observations of its own shape', () => {
    const prior: ChangeStats = {
      changed: 10,
      changedSeconds: 100,
      unchanged: 30,
      unchangedSeconds: 900,
    };
    expect(withPrior(NO_CHANGE_STATS, prior)).toEqual({
      changed: 0.5,
      changedSeconds: 5,
      unchanged: 1.5,
      unchangedSeconds: 45,
    });
    expect(withPrior(prior, NO_CHANGE_STATS)).toEqual(prior);
  });

  it('starts a product-date with nothing learned from its product, and a product from its horizon', () => {
    const productPool: ChangeStats = {
      changed: 1_000,
      changedSeconds: 1_000 * HOUR,
      unchanged: 1_000,
      unchangedSeconds: 1_000 * HOUR,
    };
    const horizonPool: ChangeStats = {
      changed: 1_000,
      changedSeconds: 1_000 * 10 * HOUR,
      unchanged: 1_000,
      unchangedSeconds: 1_000 * 10 * HOUR,
    };
    const fresh = learnedChangeRate({ own: NO_CHANGE_STATS, productPool, horizonPool });
    expect(fresh * HOUR).toBeCloseTo(Math.LN2, 1);
    const newProduct = learnedChangeRate({
      own: NO_CHANGE_STATS,
      productPool: NO_CHANGE_STATS,
      horizonPool,
    });
    expect(newProduct * 10 * HOUR).toBeCloseTo(Math.LN2, 2);
    const nothing = learnedChangeRate({
      own: NO_CHANGE_STATS,
      productPool: NO_CHANGE_STATS,
      horizonPool: NO_CHANGE_STATS,
    });
    expect(nothing).toBeCloseTo(DEFAULT_CHANGE_RATE, 15);
  });

  it('lets a product-date with many observations speak for itself, and keeps one that always changed finite', () => {
    const own = observe(NO_CHANGE_STATS, 1 / (4 * HOUR), 400, uniform(5), 0, HOUR);
    const productPool = priorStatsOf(1 / (100 * HOUR));
    const rate = learnedChangeRate({ own, productPool, horizonPool: productPool });
    expect(rate * 4 * HOUR).toBeGreaterThan(0.85);
    expect(rate * 4 * HOUR).toBeLessThan(1.15);
    const always = learnedChangeRate({
      own: { changed: 5, changedSeconds: 5 * HOUR, unchanged: 0, unchangedSeconds: 0 },
      productPool,
      horizonPool: productPool,
    });
    // A prior of two long intervals weighs like a Gamma prior: 5 changes in 5 h against it.
    expect(Number.isFinite(always)).toBe(true);
    expect(always * 100 * HOUR).toBeGreaterThan(3);
  });

  it('reads a steady feed back as its rate', () => {
    const halfLife = 6 * HOUR;
    let count = 0;
    // 3 reads a minute for two days, brought up to date every minute.
    for (let minute = 0; minute < 2 * 24 * 60; minute++) count = addReads(count, 60, 3, halfLife);
    expect(readRate(count, halfLife) * 60).toBeGreaterThan(2.9);
    expect(readRate(count, halfLife) * 60).toBeLessThan(3.1);
    expect(readRate(count, 0)).toBe(0);
  });
});
