import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import {
  lastGoodKey,
  ReadCache,
  type CachedRead,
  type ReadKey,
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

/**
 * The read cache shared by every instance through Redis. Invalidation bumps generation counters
 * (one INCR per key) instead of searching entries, so it is O(1) and immediately visible to all
 * instances. Redis is an accelerator only: every failure — down, slow, full — falls back to
 * loading from the database, commands time out fast and are never queued while disconnected.
 * Invalidations that could not reach Redis are replayed when it is back; CACHE_TTL_MS bounds what
 * an instance cut off from Redis alone could miss.
 */
export class RedisReadCache extends ReadCache {
  private readonly logger = new Logger(RedisReadCache.name);
  private readonly redis: RedisWithStore;
  private readonly pending = new Set<string>();
  private readonly inflight = new Map<string, Promise<CachedRead>>();
  private wasReady = false;
  private replayTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private readonly lastGoodMs: number;

  constructor(
    url: string,
    private readonly ttlMs: number,
    options: { commandTimeoutMs?: number; lastGoodMs?: number } = {},
  ) {
    super();
    this.lastGoodMs = options.lastGoodMs ?? 0;
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout: options.commandTimeoutMs ?? 250,
      // Keep trying in the background; reads go to the database meanwhile.
      retryStrategy: (times) => Math.min(times * 200, 2000),
    }) as RedisWithStore;
    this.redis.defineCommand('storeIfCurrent', { numberOfKeys: 3, lua: STORE_IF_CURRENT });
    this.redis.on('error', (err: Error) => {
      if (this.wasReady) {
        this.logger.warn({
          msg: 'redis unavailable; reads go to the database',
          error: err.message,
        });
        this.wasReady = false;
      }
    });
    this.redis.on('ready', () => {
      this.wasReady = true;
      this.logger.log({ msg: 'redis read cache ready' });
      void this.replayPending();
    });
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  async getOrLoad(key: ReadKey, load: () => Promise<CachedRead>): Promise<CachedRead> {
    if (!this.enabled || this.redis.status !== 'ready') return load();
    // Invalidations that did not reach Redis yet: its entries may be stale, so bypass it.
    if (this.pending.size > 0) {
      await this.bump([]);
      if (this.pending.size > 0) return load();
    }
    const keys = redisKeysOf(key);
    let values: (string | null)[];
    try {
      values = await this.redis.mget(keys.productGen, keys.keyGen, keys.entry);
    } catch {
      return load();
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
        await this.redis
          .set(
            `${PREFIX}last:${lastGoodKey(key)}`,
            JSON.stringify(stored.read),
            'PX',
            this.lastGoodMs,
          )
          .catch(() => undefined);
      }
      await this.redis
        .storeIfCurrent(
          keys.productGen,
          keys.keyGen,
          keys.entry,
          pg ?? '',
          kg ?? '',
          JSON.stringify(stored),
          this.ttlMs,
        )
        .catch(() => undefined);
      return value;
    } finally {
      this.inflight.delete(flightId);
    }
  }

  async lastGood(key: ReadKey): Promise<CachedRead | null> {
    if (this.lastGoodMs <= 0 || this.redis.status !== 'ready') return null;
    try {
      const raw = await this.redis.get(`${PREFIX}last:${lastGoodKey(key)}`);
      return raw ? fromStored(JSON.parse(raw) as StoredRead) : null;
    } catch {
      return null;
    }
  }

  async invalidateProductDate(productId: number, date: string): Promise<void> {
    await this.bump([
      redisKeysOf({ kind: 'slots', productId, date }).keyGen,
      redisKeysOf({ kind: 'dates', productId, today: date }).keyGen,
    ]);
  }

  async invalidateProduct(productId: number): Promise<void> {
    await this.bump([redisKeysOf({ kind: 'dates', productId, today: '' }).productGen]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.replayTimer);
    this.redis.disconnect();
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

  private async bump(genKeys: string[]): Promise<void> {
    if (genKeys.length === 0 && this.pending.size === 0) return;
    if (this.redis.status === 'ready') {
      // Earlier invalidations that failed go along with this one.
      const keys = [...new Set([...genKeys, ...this.pending])];
      try {
        const tx = this.redis.multi();
        for (const k of keys) tx.incr(k).pexpire(k, GENERATION_TTL_MS);
        const results = await tx.exec();
        if (results && results.every(([err]) => !err)) {
          for (const k of keys) this.pending.delete(k);
          return;
        }
      } catch {
        // fall through: remembered and replayed when Redis is back
      }
    }
    for (const k of genKeys) this.pending.add(k);
    this.scheduleReplay();
    if (genKeys.length > 0) {
      this.logger.warn({
        msg: 'redis invalidation deferred until redis is back',
        pending: this.pending.size,
      });
    }
  }

  /** Retries deferred invalidations every 500 ms: a frozen Redis comes back without 'ready'. */
  private scheduleReplay(): void {
    if (this.replayTimer || this.closed) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined;
      if (this.pending.size > 0) void this.bump([]);
    }, 500);
    this.replayTimer.unref();
  }

  private async replayPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const count = this.pending.size;
    await this.bump([]);
    if (this.pending.size === 0) {
      this.logger.log({ msg: 'replayed deferred redis invalidations', count });
    }
  }
}
