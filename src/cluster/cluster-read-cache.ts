import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import {
  LastGoodCopies,
  LruReadCache,
  ReadCache,
  type CachedRead,
  type ReadCacheHealth,
  type ReadKey,
} from '../inventory/read/read-cache';
import { ClusterNotifications } from './cluster-notifications.service';
import { RedisReadCache } from './redis-read-cache';

/**
 * The read cache of a cluster member, bound to ReadCache by the inventory module.
 * - REDIS_URL set: one cache shared by every instance (RedisReadCache); an invalidation by the
 *   leader is seen by all at once. While Redis is skipped (down, or its breaker open) reads use
 *   this instance's LRU, kept exact the same way as without Redis.
 * - REDIS_URL unset: each instance keeps its in-process LRU.
 * Either way the leader's invalidations are sent to the others through PostgreSQL NOTIFY; an
 * instance whose listener reconnected (it may have missed signals) drops its whole LRU. With
 * Redis, a NOTIFY also says when the invalidation did not reach Redis, and every instance then
 * applies it to Redis before reading it again. CACHE_TTL_MS bounds staleness in every case.
 */
@Injectable()
export class ClusterReadCache extends ReadCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ClusterReadCache.name);
  private readonly local: LruReadCache;
  private readonly shared: RedisReadCache | undefined;
  /** With Redis: this instance's own last good copies, for when Redis is down too. */
  private readonly copies: LastGoodCopies | undefined;
  private readonly subscriptions: Subscription[] = [];
  private readonly productIds: number[];

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly notifications: ClusterNotifications,
  ) {
    super();
    this.productIds = config.sync.productIds;
    this.local = new LruReadCache(config);
    if (config.redisUrl) {
      this.shared = new RedisReadCache(config.redisUrl, config.cache.ttlMs, {
        lastGoodMs: config.cache.staleIfErrorMs,
        ...config.cache.redis,
        fallback: this.local,
      });
      this.copies = new LastGoodCopies(config.cache.maxEntries, config.cache.staleIfErrorMs);
    }
  }

  get mode(): 'redis' | 'local' {
    return this.shared ? 'redis' : 'local';
  }

  override health(): ReadCacheHealth {
    return this.shared?.health() ?? super.health();
  }

  onModuleInit(): void {
    const local = this.local;
    const shared = this.shared;
    this.subscriptions.push(
      this.notifications.messages$.subscribe((m) => {
        if (m.type === 'invalidate-product-date') {
          void local.invalidateProductDate(m.productId, m.date);
          if (m.deferred) shared?.deferProductDate(m.productId, m.date);
        } else if (m.type === 'invalidate-product') {
          void local.invalidateProduct(m.productId);
          if (m.deferred) shared?.deferProduct(m.productId);
        }
      }),
      this.notifications.reconnected$.subscribe(() => {
        this.logger.warn({ msg: 'cluster signals may have been missed; local read cache dropped' });
        for (const p of this.productIds) void local.invalidateProduct(p);
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    for (const s of this.subscriptions) s.unsubscribe();
    await this.shared?.close();
  }

  async getOrLoad(key: ReadKey, load: () => Promise<CachedRead>): Promise<CachedRead> {
    if (!this.shared) return this.local.getOrLoad(key, load);
    const read = await this.shared.getOrLoad(key, load);
    this.copies?.remember(key, read);
    return read;
  }

  /** The newer of Redis' shared copy and this instance's own (Redis may be down as well). */
  async lastGood(key: ReadKey): Promise<CachedRead | null> {
    if (!this.shared) return this.local.lastGood(key);
    const [shared, own] = [await this.shared.lastGood(key), this.copies?.get(key) ?? null];
    if (!shared || !own) return shared ?? own;
    return shared.loadedAt >= own.loadedAt ? shared : own;
  }

  async invalidateProductDate(productId: number, date: string): Promise<void> {
    const reached = (await this.shared?.tryInvalidateProductDate(productId, date)) ?? true;
    await this.local.invalidateProductDate(productId, date);
    await this.notifications.publish({
      type: 'invalidate-product-date',
      productId,
      date,
      ...(reached ? {} : { deferred: true }),
    });
  }

  async invalidateProduct(productId: number): Promise<void> {
    const reached = (await this.shared?.tryInvalidateProduct(productId)) ?? true;
    await this.local.invalidateProduct(productId);
    await this.notifications.publish({
      type: 'invalidate-product',
      productId,
      ...(reached ? {} : { deferred: true }),
    });
  }
}
