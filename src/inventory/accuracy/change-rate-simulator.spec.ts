import {
  DEFAULT_CHANGE_MODEL,
  changeRatePerHour,
  seededUniform,
  stateAt,
  type ChangeModelParams,
} from '../../partner/simulator/change-model';
import { simulatedInventory } from '../../partner/simulator/simulator-data';
import { bucketObservations, changeRateMle } from './change-rate';

/**
 * The estimator against the simulated partner's own change model: a product-date synced at
 * irregular intervals sees "changed" exactly when the model's answer differs from the one synced
 * before (as the store sees it, so events that undo each other count as unchanged), and the
 * estimate must land within ±20 % of the rate the model was given.
 */
describe('changeRateMle against the simulator change model', () => {
  const DATE = '2026-04-20'; // on sale (changing) from 60 days before it
  const START = Date.parse('2026-03-01T00:00:00Z');
  // Days ahead do not slow the rate here (a half-life of 10^9 days): one known rate per product.
  const model: ChangeModelParams = {
    ...DEFAULT_CHANGE_MODEL,
    halfLifeDays: 1e9,
    startMs: START,
  };

  it.each([
    // product id → rate per hour at popularity skew 1: 6, 2, 0.6, 0.25; a slower one is watched
    // longer, so that each sees enough changes (the estimate's noise is about 1/√changes)
    [1, 10, 40, 14],
    [3, 10, 90, 14],
    [10, 30, 240, 28],
    [24, 60, 480, 49],
  ])(
    'product %i synced every %i–%i minutes for %i days: the rate within ±20 %%',
    (productId, minMinutes, maxMinutes, days) => {
      const base = simulatedInventory(productId, DATE, 1, 0);
      expect(base.length).toBeGreaterThan(0); // a date without slots never changes
      const truth = changeRatePerHour(model, productId, 5) / 3600;
      const next = seededUniform(productId);
      const observations: Array<{ seconds: number; changed: boolean }> = [];
      let at = START;
      let seen = JSON.stringify(stateAt(model, productId, DATE, base, at));
      const end = START + days * 86_400_000;
      while (at < end) {
        const gapMs = (minMinutes + next() * (maxMinutes - minMinutes)) * 60_000;
        at += gapMs;
        const now = JSON.stringify(stateAt(model, productId, DATE, base, at));
        observations.push({ seconds: gapMs / 1000, changed: now !== seen });
        seen = now;
      }
      const { ratePerSecond, observations: n } = changeRateMle(bucketObservations(observations));
      expect(n).toBeGreaterThan(40);
      expect(ratePerSecond).not.toBeNull();
      expect(ratePerSecond! / truth).toBeGreaterThan(0.8);
      expect(ratePerSecond! / truth).toBeLessThan(1.2);
    },
  );
});
