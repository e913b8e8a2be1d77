import { Logger } from '@nestjs/common';
import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import Redis from 'ioredis';
import {
  lastGoodKey,
  ReadCache,
  type CachedRead,
  type ReadCacheHealth,
  type ReadKey,
  type SharedCacheBreaker,
} from '../inventory/read/read-cache';

/** All keys live under this prefix, so the cache can share a Redis with other data. */
const PREFIX = 'inventory:read:';
/** Generation counters outlive every entry (entries carry CACHE_TTL_MS at most 1 h). */
const GENERATION_TTL_MS = 7 * 24 * 3600_000;

/** Redis keys of one read: the product's and the key's generation counters and the entry. */
export function redisKeysOf(key: ReadKey): { productGen: string; keyGen: string; entry: string } {
  const p = key.productId;
  return key.kind === 'slots'
    ? {
        productGen: `${PREFIX}gen:${p}`,
        keyGen: `${PREFIX}gen:${p}:${key.date}`,
        entry: `${PREFIX}s:${p}:${key.date}`,
      }
    : {
        productGen: `${PREFIX}gen:${p}`,
        keyGen: `${PREFIX}gen:${p}:dates`,
        entry: `${PREFIX}d:${p}:${key.today}`,
      };
}

interface StoredRead {
  body: string;
  etag: string;
  lastModified: string | null;
  loadedAt: string;
}

interface StoredEntry {
  pg: string | null;
  kg: string | null;
  read: StoredRead;
}

function toStored(read: CachedRead): StoredRead {
  return {
    body: read.body.toString(),
    etag: read.etag,
    lastModified: read.lastModified?.toISOString() ?? null,
    loadedAt: read.loadedAt.toISOString(),
  };
}

function fromStored(read: StoredRead): CachedRead {
  return {
    body: Buffer.from(read.body),
    etag: read.etag,
    lastModified: read.lastModified ? new Date(read.lastModified) : null,
    // Entries written before loadedAt existed: their age is unknown, so count it from now.
    loadedAt: read.loadedAt ? new Date(read.loadedAt) : new Date(),
  };
}

/**
 * Stores the entry only if neither generation moved since the load began: a sync that changed
 * the data meanwhile must not be overwritten by the answer read before it.
 */
const STORE_IF_CURRENT = `
local pg = redis.call('GET', KEYS[1])
local kg = redis.call('GET', KEYS[2])
if (pg or '') == ARGV[1] and (kg or '') == ARGV[2] then
  redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
  return 1
end
return 0`;

type RedisWithStore = Redis & {
  storeIfCurrent(
    productGen: string,
    keyGen: string,
    entry: string,
    pg: string,
    kg: string,
    value: string,
    ttlMs: number,
  ): Promise<number>;
};

export interface RedisReadCacheOptions {
  /** Shared last good copies (stale-if-error) kept this long; 0: none. */
  lastGoodMs?: number;
  /** Deadline of every Redis call. */
  commandTimeoutMs?: number;
  /** Failures in a row that make reads skip Redis. */
  breakerFailures?: number;
  /** How long reads skip Redis before a PING asks whether it answers again. */
  breakerRetryMs?: number;
  /** Answers reads while Redis is skipped (default: every read loads from the database). */
  fallback?: ReadCache;
}

/** Thrown instead of calling Redis while reads skip it (never leaves this file). */
class RedisSkipped extends Error {}

const BREAKER_NAMES: Record<CircuitState, SharedCacheBreaker> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/**
 * The read cache shared by every instance through Redis. Invalidation bumps generation counters
 * (one INCR per key) instead of searching entries, so it is O(1) and immediately visible to all
 * instances. Redis is an accelerator only: every call has a short deadline and goes through a
 * circuit breaker; while Redis is disconnected or the breaker is open, reads do not wait for it
 * and use the fallback (the instance's LRU) and the database. A PING every breakerRetryMs closes
 * the breaker again, so a probe never holds a read. Invalidations that could not reach Redis are
 * kept and applied before Redis is read again; CACHE_TTL_MS bounds what an instance cut off from
 * Redis alone could miss.
 */
export class RedisReadCache extends ReadCache {
  private readonly logger = new Logger(RedisReadCache.name);
  private readonly redis: RedisWithStore;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly pending = new Set<string>();
  private readonly inflight = new Map<string, Promise<CachedRead>>();
  private readonly probeTimer: NodeJS.Timeout;
  private readonly lastGoodMs: number;
  private readonly retryMs: number;
  private readonly fallback: ReadCache | undefined;
  private lastOkAt = 0;
  private probing = false;
  private closed = false;
  /** When reads began to skip Redis; the start counts as skipped until the first 'ready'. */
  private degradedSince: number | null = Date.now();
  private everUp = false;
  private warnedAtStart = false;

  constructor(
    url: string,
    private readonly ttlMs: number,
    options: RedisReadCacheOptions = {},
  ) {
    super();
    this.lastGoodMs = options.lastGoodMs ?? 0;
    this.retryMs = options.breakerRetryMs ?? 1000;
    this.fallback = options.fallback;
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout: options.commandTimeoutMs ?? 100,
      // Keep trying in the background; reads go to the database meanwhile.
      retryStrategy: (times) => Math.min(times * 200, 2000),
    }) as RedisWithStore;
    this.redis.defineCommand('storeIfCurrent', { numberOfKeys: 3, lua: STORE_IF_CURRENT });
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: this.retryMs,
      breaker: new ConsecutiveBreaker(options.breakerFailures ?? 3),
    });
    this.breaker.onStateChange(() => this.noteState());
    this.redis.on('error', (err: Error) => {
      // Once, when Redis never answered since the start (later losses log as 'degraded').
      if (!this.everUp && !this.warnedAtStart) {
        this.warnedAtStart = true;
        this.logger.warn({
          msg: 'redis unavailable; reads use the in-process cache and the database',
          error: err.message,
        });
      } else {
        this.logger.debug({ msg: 'redis connection error', error: err.message });
      }
      this.noteState();
    });
    this.redis.on('close', () => this.noteState());
    this.redis.on('ready', () => {
      this.noteState();
      void this.bump([]);
    });
    // A frozen Redis keeps its connection: only a call tells when it answers again.
    this.probeTimer = setInterval(() => void this.probe(), Math.max(50, this.retryMs / 2));
    this.probeTimer.unref();
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Connected and the breaker closed: reads use Redis. */
  private get usable(): boolean {
    return this.redis.status === 'ready' && this.breaker.state === CircuitState.Closed;
  }

  override health(): ReadCacheHealth {
    this.noteState();
    return {
      mode: 'redis',
      shared: {
        state: this.degradedSince === null ? 'up' : 'degraded',
        connected: this.redis.status === 'ready',
        breaker: BREAKER_NAMES[this.breaker.state],
        degradedSince:
          this.degradedSince === null ? null : new Date(this.degradedSince).toISOString(),
        pendingInvalidations: this.pending.size,
      },
    };
  }

  async getOrLoad(key: ReadKey, load: () => Promise<CachedRead>): Promise<CachedRead> {
    const fallback = (): Promise<CachedRead> =>
      this.fallback ? this.fallback.getOrLoad(key, load) : load();
    if (!this.enabled || !this.usable) return fallback();
    // Invalidations that did not reach Redis yet: its entries may be stale, so bypass it.
    if (this.pending.size > 0 && !(await this.bump([]))) return fallback();
    const keys = redisKeysOf(key);
    let values: (string | null)[];
    try {
      values = await this.call(() => this.redis.mget(keys.productGen, keys.keyGen, keys.entry));
    } catch {
      return fallback();
    }
    const [pg, kg, raw] = values;
    const hit = raw ? this.decode(raw, pg, kg) : null;
    if (hit) return hit;

    // Concurrent misses of one key (at the same generations) in this instance share one load.
    const flightId = `${keys.entry}|${pg ?? ''}|${kg ?? ''}`;
    const flying = this.inflight.get(flightId);
    if (flying) return flying;
    const read = load();
    this.inflight.set(flightId, read);
    try {
      const value = await read;
      const stored: StoredEntry = { pg, kg, read: toStored(value) };
      if (this.lastGoodMs > 0) {
        // Shared by every instance: one that never read this key can still answer it stale.
        await this.call(() =>
          this.redis.set(
            `${PREFIX}last:${lastGoodKey(key)}`,
            JSON.stringify(stored.read),
            'PX',
            this.lastGoodMs,
          ),
        ).catch(() => undefined);
      }
      await this.call(() =>
        this.redis.storeIfCurrent(
          keys.productGen,
          keys.keyGen,
          keys.entry,
          pg ?? '',
          kg ?? '',
          JSON.stringify(stored),
          this.ttlMs,
        ),
      ).catch(() => undefined);
      return value;
    } finally {
      this.inflight.delete(flightId);
    }
  }

  async lastGood(key: ReadKey): Promise<CachedRead | null> {
    if (this.lastGoodMs <= 0 || !this.usable) return null;
    try {
      const raw = await this.call(() => this.redis.get(`${PREFIX}last:${lastGoodKey(key)}`));
      return raw ? fromStored(JSON.parse(raw) as StoredRead) : null;
    } catch {
      return null;
    }
  }

  async invalidateProductDate(productId: number, date: string): Promise<void> {
    await this.tryInvalidateProductDate(productId, date);
  }

  async invalidateProduct(productId: number): Promise<void> {
    await this.tryInvalidateProduct(productId);
  }

  /** Resolves true when the invalidation reached Redis, false when it was kept for later. */
  tryInvalidateProductDate(productId: number, date: string): Promise<boolean> {
    return this.bump(productDateGens(productId, date));
  }

  tryInvalidateProduct(productId: number): Promise<boolean> {
    return this.bump(productGens(productId));
  }

  /**
   * Another instance's invalidation that did not reach Redis (signalled through PostgreSQL):
   * applied by this instance too before it reads Redis again, whichever instance gets there first.
   */
  deferProductDate(productId: number, date: string): void {
    this.defer(productDateGens(productId, date));
  }

  deferProduct(productId: number): void {
    this.defer(productGens(productId));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.probeTimer);
    this.redis.disconnect();
  }

  /** One Redis call under the breaker; throws at once while reads skip Redis. */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    if (!this.usable) throw new RedisSkipped();
    const value = await this.breaker.execute(work);
    this.lastOkAt = Date.now();
    return value;
  }

  /** Records a change between used and skipped, logged once each way. */
  private noteState(): void {
    if (this.closed) return;
    const usable = this.usable;
    if (!usable && this.degradedSince === null) {
      this.degradedSince = Date.now();
      this.logger.warn({
        msg: 'redis read cache degraded: reads use the in-process cache and the database',
        connection: this.redis.status,
        breaker: BREAKER_NAMES[this.breaker.state],
      });
    } else if (usable && this.degradedSince !== null) {
      this.logger.log({
        msg: this.everUp ? 'redis read cache up again' : 'redis read cache ready',
        degradedForMs: this.everUp ? Date.now() - this.degradedSince : undefined,
        pendingInvalidations: this.pending.size,
      });
      this.degradedSince = null;
      this.everUp = true;
    }
  }

  /**
   * Every retryMs/2: while the breaker is open, a PING becomes its half-open probe; while closed
   * and idle, a PING notices a frozen Redis; then deferred invalidations are replayed.
   */
  private async probe(): Promise<void> {
    if (this.closed || this.probing || this.redis.status !== 'ready') return;
    this.probing = true;
    try {
      const idle = Date.now() - this.lastOkAt >= this.retryMs;
      if (this.breaker.state !== CircuitState.Closed || idle) {
        await this.breaker
          .execute(() => this.redis.ping())
          .then(() => (this.lastOkAt = Date.now()))
          .catch(() => undefined);
      }
      if (this.pending.size > 0 && this.usable) {
        const count = this.pending.size;
        if (await this.bump([])) {
          this.logger.log({ msg: 'replayed deferred redis invalidations', count });
        }
      }
    } finally {
      this.probing = false;
      this.noteState();
    }
  }

  private decode(raw: string, pg: string | null, kg: string | null): CachedRead | null {
    try {
      const e = JSON.parse(raw) as StoredEntry;
      if (e.pg !== pg || e.kg !== kg) return null;
      return fromStored(e.read);
    } catch {
      return null;
    }
  }

  private defer(genKeys: string[]): void {
    const before = this.pending.size;
    for (const k of genKeys) this.pending.add(k);
    if (before === 0 && this.pending.size > 0) {
      this.logger.warn({ msg: 'redis invalidations deferred until redis answers again' });
    }
  }

  /** Bumps the given and every deferred generation; false (and kept) when Redis did not take them. */
  private async bump(genKeys: string[]): Promise<boolean> {
    if (genKeys.length === 0 && this.pending.size === 0) return true;
    // Earlier invalidations that failed go along with this one.
    const keys = [...new Set([...genKeys, ...this.pending])];
    try {
      const results = await this.call(() => {
        const tx = this.redis.multi();
        for (const k of keys) tx.incr(k).pexpire(k, GENERATION_TTL_MS);
        return tx.exec();
      });
      if (results && results.every(([err]) => !err)) {
        for (const k of keys) this.pending.delete(k);
        return true;
      }
    } catch {
      // kept: replayed by the probe once Redis answers
    }
    this.defer(genKeys);
    return false;
  }
}

function productDateGens(productId: number, date: string): string[] {
  return [
    redisKeysOf({ kind: 'slots', productId, date }).keyGen,
    redisKeysOf({ kind: 'dates', productId, today: date }).keyGen,
  ];
}

function productGens(productId: number): string[] {
  return [redisKeysOf({ kind: 'dates', productId, today: '' }).productGen];
}
