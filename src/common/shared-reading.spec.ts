import { SharedReading, SharedReadings } from './shared-reading';

/** A computation the test finishes by hand, counting how often it was started. */
function gate<T>() {
  let calls = 0;
  const pending: Array<{ resolve: (v: T) => void; reject: (e: Error) => void }> = [];
  const compute = (): Promise<T> => {
    calls++;
    return new Promise<T>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return {
    compute,
    calls: () => calls,
    resolve: (v: T) => pending.shift()!.resolve(v),
    reject: (e: Error) => pending.shift()!.reject(e),
  };
}

describe('SharedReading', () => {
  let now = 0;
  const clock = (): number => now;
  beforeEach(() => (now = 1_000));

  /**
   * Under a 2 % compute-share limit (keep 10 s, at most 60 s): a reading at −10 s, invalidated,
   * then one at 1 s (answer 1), each taking `computeMs`; the gate has started both.
   */
  const twoReadingsTaking = async (computeMs: number) => {
    const reading = new SharedReading<number>(10_000, clock, {
      maxComputeShare: 0.02,
      maxKeepMs: 60_000,
    });
    const g = gate<number>();
    for (const [from, answer] of [
      [-10_000, 0],
      [1_000, 1],
    ]) {
      now = from;
      const pending = reading.read(g.compute);
      now = from + computeMs;
      g.resolve(answer);
      await pending;
      if (answer === 0) reading.invalidate();
    }
    return { reading, g };
  };

  it('gives concurrent callers one computation and its one answer', async () => {
    const reading = new SharedReading<number>(0, clock);
    const g = gate<number>();
    const answers = Promise.all([1, 2, 3].map(() => reading.read(g.compute)));
    g.resolve(42);
    expect(await answers).toEqual([42, 42, 42]);
    expect(g.calls()).toBe(1);
  });

  it.each([
    ['within the time to keep it', 1_999, 1],
    ['once that time has passed', 2_000, 2],
  ])('answers the kept reading again %s', async (_name, at, calls) => {
    const reading = new SharedReading<number>(1_000, clock);
    const g = gate<number>();
    const first = reading.read(g.compute);
    g.resolve(1);
    await first;
    now = at;
    const second = reading.read(g.compute);
    if (calls === 2) g.resolve(2);
    expect(await second).toBe(calls);
    expect(g.calls()).toBe(calls);
  });

  it('keeps no failure: the next caller computes anew', async () => {
    const reading = new SharedReading<number>(60_000, clock);
    const g = gate<number>();
    const failed = reading.read(g.compute);
    g.reject(new Error('database unavailable'));
    await expect(failed).rejects.toThrow('database unavailable');
    const next = reading.read(g.compute);
    g.resolve(7);
    expect(await next).toBe(7);
    expect(g.calls()).toBe(2);
  });

  it.each([
    ['read before the change: kept only the shorter time', 500, 2_599, 1],
    ['read before the change: read anew after the shorter time', 500, 2_600, 2],
    ['read after the change: kept the whole time', -1, 2_600, 1],
  ])('after a change, a reading %s', async (_name, changeAfterRead, at, calls) => {
    const reading = new SharedReading<number>(10_000, clock);
    const g = gate<number>();
    if (changeAfterRead < 0) reading.changed(1_000);
    now = 1_600;
    const first = reading.read(g.compute);
    g.resolve(1);
    await first;
    if (changeAfterRead >= 0) {
      now = 1_600 + changeAfterRead;
      reading.changed(1_000);
    }
    now = at;
    const next = reading.read(g.compute);
    if (calls === 2) g.resolve(2);
    expect(await next).toBe(calls);
    expect(g.calls()).toBe(calls);
  });

  it.each([
    // Computed in 400 ms under a 2 % share: kept 20 s (not 10 s), also after a change (not 1 s).
    ['kept its computing time / the share', false, 1_000 + 19_999, 1],
    ['read anew once that time has passed', false, 1_000 + 20_000, 2],
    ['kept that long after a change too', true, 1_000 + 19_999, 1],
  ])('under a compute-share limit, a reading is %s', async (_name, change, at, calls) => {
    // A reading of 400 ms before it (the shorter of the last two counts).
    const { reading, g } = await twoReadingsTaking(400);
    if (change) reading.changed(1_000);
    now = at;
    const next = reading.read(g.compute);
    if (calls === 2) g.resolve(2);
    expect(await next).toBe(calls);
    expect(g.calls()).toBe(calls + 1);
  });

  it('under a compute-share limit, one slow reading after fast ones is kept the usual time', async () => {
    const reading = new SharedReading<number>(10_000, clock, {
      maxComputeShare: 0.02,
      maxKeepMs: 60_000,
    });
    const g = gate<number>();
    // The first reading (no earlier one) took 5 s: kept 10 s, not 60 s.
    const first = reading.read(g.compute);
    now = 6_000;
    g.resolve(1);
    await first;
    now = 11_000;
    const next = reading.read(g.compute);
    g.resolve(2);
    expect(await next).toBe(2);
  });

  it.each([
    // Both readings begin at 1 s: kept until 11 s (ttlMs), and until 61 s (maxKeepMs).
    ['a cheap reading keeps the time to keep it', 10, 10_999, 11_000],
    ['a slow reading is kept at most maxKeepMs', 5_000, 60_999, 61_000],
  ])('under a compute-share limit, %s', async (_name, computeMs, keptAt, anewAt) => {
    const { reading, g } = await twoReadingsTaking(computeMs);
    now = keptAt;
    expect(await reading.read(g.compute)).toBe(1);
    now = anewAt;
    const anew = reading.read(g.compute);
    g.resolve(2);
    expect(await anew).toBe(2);
    expect(g.calls()).toBe(3);
  });

  it('after invalidate reads anew and does not keep a reading begun before it', async () => {
    const reading = new SharedReading<number>(60_000, clock);
    const g = gate<number>();
    const before = reading.read(g.compute);
    reading.invalidate();
    const after = reading.read(g.compute);
    g.resolve(1);
    g.resolve(2);
    expect([await before, await after]).toEqual([1, 2]);
    const again = reading.read(g.compute);
    expect(await again).toBe(2);
    expect(g.calls()).toBe(2);
  });
});

describe('SharedReadings', () => {
  it('shares per key and keeps at most maxKeys of them', async () => {
    const readings = new SharedReadings<string>(60_000, 2, () => 0);
    let calls = 0;
    const compute = (v: string) => () => {
      calls++;
      return Promise.resolve(v);
    };
    expect(await readings.read('a', compute('a1'))).toBe('a1');
    expect(await readings.read('a', compute('a2'))).toBe('a1');
    expect(await readings.read('b', compute('b1'))).toBe('b1');
    expect(await readings.read('c', compute('c1'))).toBe('c1');
    // "a" was the oldest key: dropped to make room for "c".
    expect(await readings.read('a', compute('a3'))).toBe('a3');
    expect(calls).toBe(4);
    readings.invalidate();
    expect(await readings.read('c', compute('c2'))).toBe('c2');
  });
});
