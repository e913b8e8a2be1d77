import { leaseTiming, nextAttemptDelayMs } from './lease-timing';
import { resolveInstanceId } from './instance-id';

describe('leaseTiming', () => {
  it.each([
    { leaseMs: 15000, renew: 5000, margin: 1000, revalidate: 1000 },
    { leaseMs: 3000, renew: 1000, margin: 300, revalidate: 1000 },
    { leaseMs: 1000, renew: 333, margin: 100, revalidate: 333 },
  ])('lease $leaseMs ms → renew every $renew ms, stop $margin ms early', (row) => {
    const t = leaseTiming(row.leaseMs);
    expect([t.renewEveryMs, t.safetyMarginMs, t.revalidateEveryMs]).toEqual([
      row.renew,
      row.margin,
      row.revalidate,
    ]);
  });

  it.each([
    { remaining: null, delay: 0 },
    { remaining: 0, delay: 20 },
    { remaining: 400, delay: 420 },
    { remaining: 14000, delay: 5000 },
    { remaining: -50, delay: 20 },
  ])('a follower seeing $remaining ms left retries after $delay ms', ({ remaining, delay }) => {
    expect(nextAttemptDelayMs(leaseTiming(15000), remaining)).toBe(delay);
  });
});

describe('resolveInstanceId', () => {
  it('uses INSTANCE_ID when configured', () => {
    expect(resolveInstanceId('api-2', 'host', 7)).toBe('api-2');
  });
  it('falls back to hostname-pid', () => {
    expect(resolveInstanceId(undefined, 'web', 4242)).toBe('web-4242');
  });
});
