import type { AppConfig } from '../../config/app-config';
import { LruReadCache, type CachedRead } from './read-cache';

function cache(maxEntries = 100, ttlMs = 60_000, staleIfErrorMs = 86_400_000): LruReadCache {
  return new LruReadCache({ cache: { maxEntries, ttlMs, staleIfErrorMs } } as AppConfig);
}

function read(body: string, loadedAt = new Date()): CachedRead {
  return { body: Buffer.from(body), etag: `"${body}"`, lastModified: null, loadedAt };
}

/** A load the test resolves by hand, to interleave it with invalidations. */
function deferredLoad(body: string): {
  load: () => Promise<CachedRead>;
  resolve: () => void;
  calls: () => number;
} {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    load: async () => {
      calls += 1;
      await gate;
      return read(body);
    },
    resolve: () => release(),
    calls: () => calls,
  };
}

const slots = { kind: 'slots', productId: 14, date: '2025-04-03' } as const;
const dates = { kind: 'dates', productId: 14, today: '2025-04-01' } as const;

describe('LruReadCache', () => {
  it('serves a stored answer without loading again', async () => {
    const c = cache();
    const load = jest.fn(async () => read('a'));
    await c.getOrLoad(slots, load);
    expect((await c.getOrLoad(slots, load)).body.toString()).toBe('a');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('loads every time when turned off (CACHE_MAX_ENTRIES=0 or CACHE_TTL_MS=0)', async () => {
    for (const c of [cache(0, 60_000), cache(100, 0)]) {
      const load = jest.fn(async () => read('a'));
      await c.getOrLoad(slots, load);
      await c.getOrLoad(slots, load);
      expect(load).toHaveBeenCalledTimes(2);
      expect(c.enabled).toBe(false);
    }
  });

  it("drops the product-date's slots and the product's dates on invalidateProductDate, nothing else", async () => {
    const c = cache();
    const other = { kind: 'slots', productId: 14, date: '2025-04-04' } as const;
    await c.getOrLoad(slots, async () => read('s1'));
    await c.getOrLoad(other, async () => read('o1'));
    await c.getOrLoad(dates, async () => read('d1'));
    await c.invalidateProductDate(14, '2025-04-03');
    expect((await c.getOrLoad(slots, async () => read('s2'))).body.toString()).toBe('s2');
    expect((await c.getOrLoad(dates, async () => read('d2'))).body.toString()).toBe('d2');
    expect((await c.getOrLoad(other, async () => read('o2'))).body.toString()).toBe('o1');
  });

  it('drops every answer of the product on invalidateProduct', async () => {
    const c = cache();
    await c.getOrLoad(slots, async () => read('s1'));
    await c.getOrLoad({ kind: 'slots', productId: 15, date: '2025-04-03' }, async () =>
      read('p15'),
    );
    await c.invalidateProduct(14);
    expect((await c.getOrLoad(slots, async () => read('s2'))).body.toString()).toBe('s2');
    expect(
      (
        await c.getOrLoad({ kind: 'slots', productId: 15, date: '2025-04-03' }, async () =>
          read('x'),
        )
      ).body.toString(),
    ).toBe('p15');
  });

  it('loads a new dates list when the day changes', async () => {
    const c = cache();
    await c.getOrLoad(dates, async () => read('day1'));
    expect(
      (
        await c.getOrLoad({ ...dates, today: '2025-04-02' }, async () => read('day2'))
      ).body.toString(),
    ).toBe('day2');
  });

  it('does not store an answer whose load began before an invalidation', async () => {
    const c = cache();
    const slow = deferredLoad('old');
    const pending = c.getOrLoad(slots, slow.load);
    await c.invalidateProductDate(14, '2025-04-03');
    slow.resolve();
    expect((await pending).body.toString()).toBe('old');
    expect((await c.getOrLoad(slots, async () => read('new'))).body.toString()).toBe('new');
  });

  it('shares one load between concurrent misses, but not across an invalidation', async () => {
    const c = cache();
    const first = deferredLoad('a');
    const p1 = c.getOrLoad(slots, first.load);
    const p2 = c.getOrLoad(slots, first.load);
    await c.invalidateProductDate(14, '2025-04-03');
    const p3 = c.getOrLoad(slots, async () => read('b'));
    first.resolve();
    expect([(await p1).body, (await p2).body, (await p3).body].map(String)).toEqual([
      'a',
      'a',
      'b',
    ]);
    expect(first.calls()).toBe(1);
  });

  it('evicts the least recently used entry beyond CACHE_MAX_ENTRIES', async () => {
    const c = cache(2);
    const key = (date: string) => ({ kind: 'slots', productId: 1, date }) as const;
    await c.getOrLoad(key('a'), async () => read('a'));
    await c.getOrLoad(key('b'), async () => read('b'));
    await c.getOrLoad(key('c'), async () => read('c'));
    expect((await c.getOrLoad(key('a'), async () => read('a2'))).body.toString()).toBe('a2');
    expect((await c.getOrLoad(key('c'), async () => read('c2'))).body.toString()).toBe('c');
  });
});

describe('LruReadCache last good copies (stale-if-error)', () => {
  it('keeps the last good answer after its entry expired and after an invalidation', async () => {
    jest.useFakeTimers({ now: new Date('2025-04-01T00:00:00Z') });
    try {
      const c = cache(100, 1000);
      await c.getOrLoad(slots, async () => read('s1'));
      await c.getOrLoad(dates, async () => read('d1'));
      jest.advanceTimersByTime(60_000); // far beyond CACHE_TTL_MS
      await c.invalidateProductDate(14, '2025-04-03');
      expect((await c.lastGood(slots))?.body.toString()).toBe('s1');
      // The dates copy is per product, whatever day its list started at.
      expect((await c.lastGood({ ...dates, today: '2025-04-02' }))?.body.toString()).toBe('d1');
    } finally {
      jest.useRealTimers();
    }
  });

  it('knows nothing about a key never loaded, and forgets copies older than CACHE_STALE_IF_ERROR_MS', async () => {
    jest.useFakeTimers({ now: new Date('2025-04-01T00:00:00Z') });
    try {
      const c = cache(100, 1000, 10_000);
      expect(await c.lastGood(slots)).toBeNull();
      await c.getOrLoad(slots, async () => read('s1'));
      jest.advanceTimersByTime(9_000);
      expect(await c.lastGood(slots)).not.toBeNull();
      jest.advanceTimersByTime(2_000);
      expect(await c.lastGood(slots)).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  it('replaces a copy only by a newer load, and keeps copies with the cache turned off', async () => {
    const c = cache(100, 0);
    const now = Date.now();
    await c.getOrLoad(slots, async () => read('new', new Date(now - 5_000)));
    await c.getOrLoad(slots, async () => read('older', new Date(now - 10_000)));
    expect((await c.lastGood(slots))?.body.toString()).toBe('new');
  });

  it('keeps nothing with CACHE_STALE_IF_ERROR_MS=0 or CACHE_MAX_ENTRIES=0', async () => {
    for (const c of [cache(100, 1000, 0), cache(0, 1000)]) {
      await c.getOrLoad(slots, async () => read('s1'));
      expect(await c.lastGood(slots)).toBeNull();
    }
  });
});
