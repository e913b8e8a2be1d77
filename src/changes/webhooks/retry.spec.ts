import { backoffMs, retryAfterMs } from './retry';

describe('webhook retries', () => {
  it('doubles per attempt with jitter in [half, full), capped', () => {
    expect(backoffMs(1, 1000, 3_600_000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, 3_600_000, () => 0.999999)).toBe(1000);
    expect(backoffMs(4, 1000, 3_600_000, () => 0)).toBe(4000);
    expect(backoffMs(40, 1000, 3_600_000, () => 0.999999)).toBeLessThanOrEqual(3_600_000);
    expect(backoffMs(40, 1000, 3_600_000, () => 0)).toBe(1_800_000);
  });

  it('reads Retry-After as seconds or a date, capped', () => {
    const now = Date.parse('2026-12-07T15:00:00Z');
    expect(retryAfterMs('30', now, 3_600_000)).toBe(30_000);
    expect(retryAfterMs('Mon, 07 Dec 2026 15:01:00 GMT', now, 3_600_000)).toBe(60_000);
    expect(retryAfterMs('999999', now, 3_600_000)).toBe(3_600_000);
    expect(retryAfterMs('soon', now, 3_600_000)).toBeNull();
    expect(retryAfterMs(undefined, now, 3_600_000)).toBeNull();
  });
});
