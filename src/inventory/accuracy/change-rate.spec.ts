// The simulated partner's PRNG (mulberry32): the synthetic runs are the same every time.
import { seededUniform } from '../../partner/simulator/change-model';
import {
  bucketObservations,
  bucketOf,
  changeRateMle,
  freshProbability,
  type IntervalBucket,
} from './change-rate';

const bucket = (
  changed: number,
  unchanged: number,
  tau: number,
  unchangedTau = tau,
): IntervalBucket => ({
  changed,
  unchanged,
  changedSeconds: changed * tau,
  unchangedSeconds: unchanged * unchangedTau,
});

describe('changeRateMle', () => {
  it.each([
    ['no observation', [], null],
    ['nothing changed', [bucket(0, 10, 600)], 0],
    // Regular intervals: the MLE is -ln(1 - X/n) / tau.
    ['half of 10 at 600 s', [bucket(5, 5, 600)], -Math.log(0.5) / 600],
    ['1 of 4 at 1 h', [bucket(1, 3, 3600)], -Math.log(0.75) / 3600],
    ['9 of 10 at 60 s', [bucket(9, 1, 60)], -Math.log(0.1) / 60],
    // Every interval saw a change: no finite MLE, the bias-reduced estimator over the mean interval.
    ['all of 3 changed at 100 s', [bucket(3, 0, 100)], -Math.log(0.5 / 3.5) / 100],
  ])('%s', (_name, buckets, expected) => {
    const { ratePerSecond } = changeRateMle(buckets);
    if (expected === null) expect(ratePerSecond).toBeNull();
    else expect(ratePerSecond).toBeCloseTo(expected, 10);
  });

  it('solves the likelihood equation for irregular intervals', () => {
    const buckets = [bucket(3, 1, 600), bucket(2, 6, 60, 90), bucket(1, 2, 7200)];
    const { ratePerSecond, observations, changed } = changeRateMle(buckets);
    expect(observations).toBe(15);
    expect(changed).toBe(6);
    const lambda = ratePerSecond!;
    const lhs = buckets.reduce(
      (s, b) =>
        s +
        (b.changed ? b.changedSeconds / Math.expm1((lambda * b.changedSeconds) / b.changed) : 0),
      0,
    );
    const rhs = buckets.reduce((s, b) => s + b.unchangedSeconds, 0);
    expect(lhs / rhs).toBeCloseTo(1, 9);
  });

  it('treats a longer unchanged interval as evidence of a slower rate', () => {
    const short = changeRateMle([bucket(2, 2, 600)]).ratePerSecond!;
    const long = changeRateMle([bucket(2, 0, 600), bucket(0, 2, 0, 6000)]).ratePerSecond!;
    expect(long).toBeLessThan(short);
  });

  // Synthetic Poisson changes with known rates, seen at irregular intervals (from a tenth to ten
  // times the mean time between changes, log-uniform, as crons, prefetch and catch-up mix them).
  it.each([
    ['10 per hour', 10 / 3600, 1],
    ['1 per hour', 1 / 3600, 2],
    ['1 per 4 hours', 1 / 14_400, 3],
    ['1 per day', 1 / 86_400, 4],
  ])('converges to %s within 20 %% after 3000 irregular observations', (_n, rate, seed) => {
    const random = seededUniform(seed);
    const observations = Array.from({ length: 3000 }, () => {
      const seconds = Math.exp(Math.log(0.1 / rate) + random() * Math.log(100));
      return { seconds, changed: random() < -Math.expm1(-rate * seconds) };
    });
    const estimate = changeRateMle(bucketObservations(observations));
    expect(estimate.observations).toBe(3000);
    expect(Math.abs(estimate.ratePerSecond! / rate - 1)).toBeLessThan(0.2);
  });

  it('bucketing the intervals moves the estimate by under 2 %', () => {
    const random = seededUniform(7);
    const rate = 1 / 1800;
    const observations = Array.from({ length: 2000 }, () => {
      const seconds = 60 + random() * 7200;
      return { seconds, changed: random() < -Math.expm1(-rate * seconds) };
    });
    const exact = changeRateMle(
      observations.map(({ seconds, changed }) => bucket(changed ? 1 : 0, changed ? 0 : 1, seconds)),
    ).ratePerSecond!;
    const bucketed = changeRateMle(bucketObservations(observations)).ratePerSecond!;
    expect(Math.abs(bucketed / exact - 1)).toBeLessThan(0.02);
  });
});

describe('bucketOf', () => {
  it.each([
    [1, 0],
    [2, 4],
    [1.18, 0],
    [1.19, 1],
    [3600, Math.floor(4 * Math.log2(3600))],
    [0, Math.floor(4 * Math.log2(0.001))],
  ])('%s s is bucket %s', (seconds, expected) => {
    expect(bucketOf(seconds)).toBe(expected);
  });
});

describe('freshProbability', () => {
  it.each([
    [0, 1000, 1],
    [1 / 3600, 0, 1],
    [1 / 3600, 3600, Math.exp(-1)],
    [1 / 3600, -5, 1],
  ])('rate %s, age %s s: %s', (rate, age, expected) => {
    expect(freshProbability(rate, age)).toBeCloseTo(expected, 12);
  });
});
