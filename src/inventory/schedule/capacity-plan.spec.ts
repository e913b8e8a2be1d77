import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import { buildSyncPolicy } from '../policy/sync-policy';
import { callsPerProduct, capacityPlan, CAPACITY_POLICY } from './capacity-plan';

const START = new Date('2025-04-01T00:00:00Z');
const POLICY = buildSyncPolicy(DEFAULT_CRONS, 'UTC', START);

describe('callsPerProduct', () => {
  it('counts 155 calls a day with dedupe and 168 without for the default schedule', () => {
    const calls = callsPerProduct(DEFAULT_CRONS, 'UTC', START);
    expect(calls.coreWithDedupe).toBe(155);
    expect(calls.coreWithoutDedupe).toBe(168);
    // 30 dates once a week.
    expect(calls.extended).toBeCloseTo(30 / 7, 2);
    expect(calls.total).toBeCloseTo(155 + 30 / 7, 2);
  });

  it('counts the same in a zone with a half-hour offset', () => {
    const calls = callsPerProduct(DEFAULT_CRONS, 'Asia/Kolkata', START);
    expect([calls.coreWithDedupe, calls.coreWithoutDedupe]).toEqual([155, 168]);
  });

  it('saves nothing when no windows coincide', () => {
    const calls = callsPerProduct(
      { ...DEFAULT_CRONS, daily: '7 0 * * *', fourHourly: '5 */4 * * *' },
      'UTC',
      START,
    );
    expect(calls.coreWithDedupe).toBe(168);
    expect(calls.coreWithoutDedupe).toBe(168);
  });

  it('extrapolates schedules firing every second instead of walking a week of them', () => {
    const calls = callsPerProduct({ ...DEFAULT_CRONS, quarterHourly: '* * * * * *' }, 'UTC', START);
    expect(calls.coreWithoutDedupe).toBeGreaterThan(86_000);
  });
});

describe('capacityPlan', () => {
  const perProduct = callsPerProduct(DEFAULT_CRONS, 'UTC', START);

  it.each([
    // products, overCapacity
    [2, false],
    [271, false],
    [278, true],
    [450, true],
  ])('for %i products at 30/min says overCapacity=%s', (products, over) => {
    const plan = capacityPlan({
      policy: POLICY,
      products,
      perProduct,
      rateLimit: 30,
      rateWindowMs: 60_000,
    });
    expect(plan.callsPerDayAllowed).toBe(43_200);
    expect(plan.overCapacity).toBe(over);
    expect(plan.maxProducts).toBe(271);
    // 155 + 30/7 = 159.29 calls per product per day.
    expect(plan.callsPerDayNeeded).toBe(Math.ceil(products * 159.29));
    expect(plan.callsPerDayWithoutDedupe).toBeGreaterThan(plan.callsPerDayNeeded);
    expect(plan.policy).toBe(CAPACITY_POLICY);
  });

  it('scales the allowance with the configured budget window', () => {
    const plan = capacityPlan({
      policy: POLICY,
      products: 2,
      perProduct,
      rateLimit: 5,
      rateWindowMs: 1000,
    });
    expect(plan.callsPerDayAllowed).toBe(432_000);
  });

  it.each([
    // keys, products, allowed, fits, overCapacity
    [1, 450, 43_200, 271, true],
    [2, 450, 86_400, 542, false],
    [3, 900, 129_600, 813, true],
  ])(
    'with %i keys for %i products allows %i calls a day (%i products fit)',
    (keys, products, allowed, fits, over) => {
      const plan = capacityPlan({
        policy: POLICY,
        products,
        perProduct,
        rateLimit: 30,
        rateWindowMs: 60_000,
        keys,
      });
      expect(plan.callsPerDayAllowed).toBe(allowed);
      expect(plan.maxProducts).toBe(fits);
      expect(plan.overCapacity).toBe(over);
    },
  );

  it.each([
    // products, stretch, expected worst age of today (s)
    [2, 0.007, 900],
    [271, 0.999, 900],
    [450, 1.659, Math.round(900 * 1.659)],
    [900, 3.318, Math.round(900 * 3.318)],
  ])(
    'for %i products on one key stretches by %p (today worst %i s)',
    (products, stretch, today) => {
      const plan = capacityPlan({
        policy: POLICY,
        products,
        perProduct,
        rateLimit: 30,
        rateWindowMs: 60_000,
      });
      expect(plan.stretchFactor).toBeCloseTo(stretch, 2);
      expect(plan.expectedWorstAgeSeconds.today).toBeCloseTo(today, -1);
      // Every horizon by the same factor but +30..+59, which takes a tenth of it.
      const f = Math.max(1, plan.stretchFactor);
      expect(plan.expectedWorstAgeSeconds.month).toBeCloseTo(86_400 * f, -2);
      expect(plan.expectedWorstAgeSeconds.extended).toBeCloseTo(
        7 * 86_400 * (1 + (f - 1) / 10),
        -3,
      );
    },
  );
});
