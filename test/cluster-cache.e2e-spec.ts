import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { ClusterNotifications } from '../src/cluster/cluster-notifications.service';
import { ClusterReadCache } from '../src/cluster/cluster-read-cache';
import { RedisReadCache } from '../src/cluster/redis-read-cache';
import { loadConfig } from '../src/config/app-config';
import { PrismaService } from '../src/core/prisma.service';
import { LruReadCache, type CachedRead, type ReadKey } from '../src/inventory/read/read-cache';
import type { AppConfig } from '../src/config/app-config';
import { startRedisServer, type RedisServer } from './cluster-support/redis-server';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';

const slots = (date = '2026-12-01'): ReadKey => ({ kind: 'slots', productId: 14, date });

/** A loader that counts its calls and answers with a body naming who loaded it and when. */
function loader(name: string) {
  let calls = 0;
  const fn = async (): Promise<CachedRead> => {
    calls++;
    return {
      body: Buffer.from(`${name}#${calls}`),
      etag: `"${name}${calls}"`,
      lastModified: null,
      loadedAt: new Date(),
    };
  };
  return Object.assign(fn, { calls: () => calls });
}

beforeAll(() => Logger.overrideLogger(false));

describe('RedisReadCache shared by two instances', () => {
  let redis: RedisServer;
  let a: RedisReadCache;
  let b: RedisReadCache;
  let probes = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  beforeEach(async () => {
    a = new RedisReadCache(redis.url, 30000);
    b = new RedisReadCache(redis.url, 30000);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });
  afterAll(async () => {
    await redis.kill();
  });

  async function ready(c: RedisReadCache): Promise<void> {
    // getOrLoad bypasses Redis until connected; wait until an entry written by c is readable.
    await until(
      'an entry written through Redis to be readable',
      async () => {
        const key: ReadKey = { kind: 'slots', productId: 1000 + ++probes, date: '2000-01-01' };
        const l = loader('probe');
        await c.getOrLoad(key, l);
        await c.getOrLoad(key, l);
        return l.calls() === 1;
      },
      3000,
      20,
    );
  }

  it('keeps last good copies (stale-if-error) for every instance, through invalidations', async () => {
    const x = new RedisReadCache(redis.url, 30000, { lastGoodMs: 60_000 });
    const y = new RedisReadCache(redis.url, 30000, { lastGoodMs: 60_000 });
    try {
      await ready(x);
      await ready(y);
      const key = slots('2026-12-09');
      await x.getOrLoad(key, loader('last-good'));
      await x.invalidateProductDate(14, '2026-12-09');
      expect((await y.lastGood(key))?.body.toString()).toBe('last-good#1');
      expect(await y.lastGood(slots('2026-12-10'))).toBeNull();
      // Without lastGoodMs nothing is kept.
      expect(await a.lastGood(slots('2026-12-10'))).toBeNull();
    } finally {
      await x.close();
      await y.close();
    }
  });

  it('serves an answer loaded by one instance to the other without a database read', async () => {
    await ready(a);
    await ready(b);
    const la = loader('a');
    const lb = loader('b');
    expect((await a.getOrLoad(slots('2026-12-02'), la)).body.toString()).toBe('a#1');
    expect((await b.getOrLoad(slots('2026-12-02'), lb)).body.toString()).toBe('a#1');
    expect(lb.calls()).toBe(0);
  });

  it('makes every instance reload a product-date as soon as the leader invalidates it', async () => {
    await ready(a);
    await ready(b);
    const key = slots('2026-12-03');
    await b.getOrLoad(key, loader('old'));
    await a.invalidateProductDate(14, '2026-12-03');
    expect((await b.getOrLoad(key, loader('new'))).body.toString()).toBe('new#1');
    // The dates list of the product is dropped with it; other products' entries stay.
    const dates: ReadKey = { kind: 'dates', productId: 14, today: '2026-12-01' };
    const other: ReadKey = { kind: 'slots', productId: 15, date: '2026-12-03' };
    await b.getOrLoad(dates, loader('d-old'));
    await b.getOrLoad(other, loader('p15'));
    await a.invalidateProductDate(14, '2026-12-05');
    expect((await b.getOrLoad(dates, loader('d-new'))).body.toString()).toBe('d-new#1');
    expect((await b.getOrLoad(other, loader('p15-again'))).body.toString()).toBe('p15#1');
  });

  it('does not store an answer that was loaded before a concurrent invalidation', async () => {
    await ready(a);
    await ready(b);
    const key = slots('2026-12-04');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = b.getOrLoad(key, async () => {
      await gate;
      return {
        body: Buffer.from('read-before-sync'),
        etag: '"x"',
        lastModified: null,
        loadedAt: new Date(),
      };
    });
    await new Promise((r) => setTimeout(r, 50));
    await a.invalidateProductDate(14, '2026-12-04');
    release();
    expect((await slow).body.toString()).toBe('read-before-sync');
    expect((await a.getOrLoad(key, loader('after-sync'))).body.toString()).toBe('after-sync#1');
  });

  it('answers from the database while Redis is frozen and replays missed invalidations after', async () => {
    await ready(a);
    await ready(b);
    const key = slots('2026-12-06');
    await b.getOrLoad(key, loader('before'));
    redis.child.kill('SIGSTOP');
    try {
      const during = loader('db');
      expect((await b.getOrLoad(key, during)).body.toString()).toBe('db#1');
      await expect(a.invalidateProductDate(14, '2026-12-06')).resolves.toBeUndefined();
    } finally {
      redis.child.kill('SIGCONT');
    }
    // A's deferred invalidation reaches Redis by itself: B then stops serving the old entry.
    await until(
      'b to load the fresh answer',
      async () => (await b.getOrLoad(key, loader('fresh'))).body.toString() === 'fresh#1',
      5000,
      20,
    );
  });
});

describe('RedisReadCache when Redis freezes (breaker)', () => {
  it('opens its breaker after a few failed calls, then answers from its fallback LRU without calling Redis, and closes when Redis answers', async () => {
    const redis = await startRedisServer();
    const fallback = new LruReadCache({
      cache: { maxEntries: 100, ttlMs: 60_000, staleIfErrorMs: 0 },
    } as AppConfig);
    const cache = new RedisReadCache(redis.url, 30000, {
      commandTimeoutMs: 50,
      breakerFailures: 2,
      breakerRetryMs: 200,
      fallback,
    });
    try {
      await until('redis up', async () => cache.health().shared?.state === 'up');
      redis.child.kill('SIGSTOP');
      const l = loader('db');
      await until(
        'the breaker to open',
        async () => {
          await cache.getOrLoad(slots('2026-12-20'), l);
          return cache.health().shared?.breaker === 'open';
        },
        5000,
        10,
      );
      expect(cache.health().shared).toMatchObject({ state: 'degraded', connected: true });
      // Skipped: the fallback LRU answers, so a second read of one key loads nothing more.
      const calls = l.calls();
      const key = slots('2026-12-21');
      await cache.getOrLoad(key, l);
      await cache.getOrLoad(key, l);
      expect(l.calls()).toBe(calls + 1);
      // An invalidation while skipped reaches the fallback at once and Redis later.
      await cache.invalidateProductDate(14, '2026-12-21');
      expect(cache.health().shared?.pendingInvalidations).toBe(2);
    } finally {
      redis.child.kill('SIGCONT');
    }
    try {
      await until(
        'the breaker to close and the invalidation to be replayed',
        async () => {
          const h = cache.health().shared;
          return h?.state === 'up' && h.pendingInvalidations === 0;
        },
        5000,
      );
    } finally {
      await cache.close();
      await redis.kill();
    }
  });
});

describe('RedisReadCache when Redis is gone', () => {
  it('loads from the database on every read and never throws', async () => {
    const redis = await startRedisServer();
    const cache = new RedisReadCache(redis.url, 30000);
    try {
      await redis.kill();
      const l = loader('db');
      for (let i = 0; i < 3; i++) await cache.getOrLoad(slots(), l);
      expect(l.calls()).toBe(3);
      await expect(cache.invalidateProductDate(14, '2026-12-01')).resolves.toBeUndefined();
    } finally {
      await cache.close();
    }
  });
});

describe('ClusterReadCache without Redis (LISTEN/NOTIFY)', () => {
  let db: TestDatabase;
  const closers: (() => Promise<unknown>)[] = [];

  async function member(id: string): Promise<ClusterReadCache> {
    const config = loadConfig({ DATABASE_URL: db.url, INSTANCE_ID: id }, 'demo');
    const connection = { url: db.url, poolSize: 2, kind: 'postgresql' as const };
    const prisma = new PrismaService(connection);
    const notifications = new ClusterNotifications(prisma, connection, config);
    await notifications.onModuleInit();
    const cache = new ClusterReadCache(config, notifications);
    cache.onModuleInit();
    closers.push(
      () => cache.onModuleDestroy(),
      () => notifications.onModuleDestroy(),
      () => prisma.onModuleDestroy(),
    );
    return cache;
  }

  beforeAll(async () => {
    db = await createTestDatabase('inv_ccache');
  });
  afterAll(async () => {
    for (const c of closers) await c().catch(() => undefined);
    await db.drop();
  });

  it('drops the entry on the other instances when the leader invalidates a product-date', async () => {
    const leader = await member('leader');
    const reader = await member('reader');
    expect(reader.mode).toBe('local');
    const key = slots('2026-12-10');
    await reader.getOrLoad(key, loader('old'));
    expect((await reader.getOrLoad(key, loader('unused'))).body.toString()).toBe('old#1');
    await leader.invalidateProductDate(14, '2026-12-10');
    await until(
      'the reader to load the new answer',
      async () => (await reader.getOrLoad(key, loader('new'))).body.toString() === 'new#1',
      3000,
      20,
    );
  });

  it('drops the whole local cache when its listener connection was lost and came back', async () => {
    const reader = await member('reader2');
    const key = slots('2026-12-11');
    await reader.getOrLoad(key, loader('old'));
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = $1 AND query LIKE 'LISTEN%' AND application_name = ''`,
        [db.name],
      );
      expect(rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await until(
      'the reader to load the new answer',
      async () => (await reader.getOrLoad(key, loader('new'))).body.toString() === 'new#1',
      5000,
      20,
    );
  });
});
