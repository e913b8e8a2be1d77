import {
  PRODUCT_BACKOFF_AFTER,
  afterProductFailure,
  isBackingOff,
  productProbeWaitMs,
  type ProductBackoffState,
} from './product-backoff';

describe('product backoff (fake clock)', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-12-07T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  /** One failed attempt, sent `sentAgoMs` before now (a timeout: its deadline earlier). */
  const fail = (prev: ProductBackoffState | null, sentAgoMs = 15_000) => {
    const now = new Date();
    return afterProductFailure(prev, new Date(now.getTime() - sentAgoMs), now, 'timeout');
  };

  it('waits 30 s, 1 min, 2 min … at most 30 min for the next probe', () => {
    expect([0, 1, 2, 3, 6, 20].map(productProbeWaitMs)).toEqual([
      30_000, 60_000, 120_000, 240_000, 1_800_000, 1_800_000,
    ]);
  });

  it('backs a product off after three failures in a row across its dates, not before', () => {
    let state: ProductBackoffState | null = null;
    for (let i = 1; i < PRODUCT_BACKOFF_AFTER; i++) {
      state = fail(state);
      expect(isBackingOff(state)).toBe(false);
      expect(state.nextProbeAt).toBeNull();
      jest.advanceTimersByTime(2000);
    }
    state = fail(state);
    expect(isBackingOff(state)).toBe(true);
    expect(state).toMatchObject({
      consecutiveFailures: PRODUCT_BACKOFF_AFTER,
      since: new Date(),
      probeFailures: 0,
      nextProbeAt: new Date(Date.now() + 30_000),
      lastOutcome: 'timeout',
    });
  });

  it('counts the failures of calls sent before the backoff began without lengthening the wait', () => {
    let state: ProductBackoffState | null = null;
    for (let i = 0; i < PRODUCT_BACKOFF_AFTER; i++) state = fail(state);
    const probeAt = state!.nextProbeAt;
    // Four more of its dates were in flight together (sent before `since`): they time out too.
    for (let i = 0; i < 4; i++) {
      jest.advanceTimersByTime(2000);
      state = fail(state, 15_000);
    }
    expect(state).toMatchObject({
      consecutiveFailures: PRODUCT_BACKOFF_AFTER + 4,
      probeFailures: 0,
      nextProbeAt: probeAt,
    });
  });

  it('lengthens the wait with each failed probe (sent after the backoff began)', () => {
    let state: ProductBackoffState | null = null;
    for (let i = 0; i < PRODUCT_BACKOFF_AFTER; i++) state = fail(state);
    const waits: number[] = [];
    for (let probe = 0; probe < 3; probe++) {
      jest.setSystemTime(state!.nextProbeAt!); // the probe is sent when its wait is over…
      jest.advanceTimersByTime(15_000); // …and times out
      state = fail(state, 15_000);
      waits.push(state.nextProbeAt!.getTime() - Date.now());
    }
    expect(waits).toEqual([60_000, 120_000, 240_000]);
    expect(state!.since).toEqual(new Date(Date.parse('2026-12-07T10:00:00Z')));
  });
});
