import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Subscription } from 'rxjs';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { InventoryEvents } from '../inventory-events';
import { etagOf } from './http-cache';

/** A read answer ready to send: the JSON body as the bytes sent, and its validators. */
export interface CachedRead {
  body: Buffer;
  etag: string;
  /** The last successful sync of the data behind the answer, when known. */
  lastModified: Date | null;
  /** When the answer was read from the database (the origin of its Age). */
  loadedAt: Date;
  /** True for a last good copy served because the database could not answer (stale-if-error). */
  stale?: boolean;
}

/** A read answer from its JSON text: encoded and tagged once, so sending it is a plain write. */
export function cachedRead(json: string, lastModified: Date | null, loadedAt: Date): CachedRead {
  const body = Buffer.from(json);
  return { body, etag: etagOf(body), lastModified, loadedAt };
}

/** What a cached answer is about: the slots of a product-date, or a product's dates from `today`. */
export type ReadKey =
  | { kind: 'slots'; productId: number; date: string }
  | { kind: 'dates'; productId: number; today: string };

/** A shared cache's circuit breaker: closed (used), open (skipped), half-open (being probed). */
export type SharedCacheBreaker = 'closed' | 'open' | 'half-open';

/**
 * How the read cache is doing, for status, health and metrics. `shared` is null without a shared
 * cache; with one, `degraded` means reads skip it for now (this instance's LRU and the database
 * answer them), which costs speed and database reads, never availability.
 */
export interface ReadCacheHealth {
  mode: 'local' | 'redis';
  shared: {
    state: 'up' | 'degraded';
    /** Whether the connection to the shared cache is established. */
    connected: boolean;
    breaker: SharedCacheBreaker;
    /** Since when reads skip the shared cache (ISO), null while it is up. */
    degradedSince: string | null;
    /** Invalidations that did not reach the shared cache yet (applied before it is read again). */
    pendingInvalidations: number;
  } | null;
}

/**
 * The read API's response cache. The in-process LRU below is the default; a shared implementation
 * (e.g. Redis) can be bound to this token instead. Contract: after invalidateProductDate(p, d)
 * resolves, no getOrLoad returns an answer for (p, d) or for p's dates loaded before that call.
 */
export abstract class ReadCache {
  /** The cached answer for `key`, or the result of `load` (cached unless invalidated meanwhile). */
  abstract getOrLoad(key: ReadKey, load: () => Promise<CachedRead>): Promise<CachedRead>;
  /** Drops the slots of that product-date and the product's dates list. */
  abstract invalidateProductDate(productId: number, date: string): Promise<void>;
  /** Drops every answer about the product. */
  abstract invalidateProduct(productId: number): Promise<void>;
  /**
   * The last good answer loaded for `key` (slots: that product-date; dates: that product, whatever
   * day it started at), kept apart from the cache and its invalidations for stale-if-error; null
   * when none is known or it is older than CACHE_STALE_IF_ERROR_MS.
   */
  abstract lastGood(key: ReadKey): Promise<CachedRead | null>;
  /** The cache's state (a process-local cache has nothing to report). */
  health(): ReadCacheHealth {
    return { mode: 'local', shared: null };
  }
}

/**
 * Last good answers by product-date (slots) and product (dates), for RFC 5861's stale-if-error:
 * the LRU's copies expire after CACHE_TTL_MS and are dropped by every sync change, these live
 * for CACHE_STALE_IF_ERROR_MS and are only replaced by a newer load.
 */
export class LastGoodCopies {
  private readonly copies: LRUCache<string, CachedRead> | undefined;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
  ) {
    this.copies =
      maxEntries > 0 && maxAgeMs > 0
        ? new LRUCache<string, CachedRead>({ max: maxEntries, ttl: maxAgeMs, ttlAutopurge: false })
        : undefined;
  }

  remember(key: ReadKey, read: CachedRead): void {
    if (!this.copies) return;
    const id = lastGoodKey(key);
    const known = this.copies.get(id);
    if (known && known.loadedAt > read.loadedAt) return;
    this.copies.set(id, { ...read, stale: undefined });
  }

  get(key: ReadKey, now: number = Date.now()): CachedRead | null {
    const copy = this.copies?.get(lastGoodKey(key));
    // The age counts from the load, not from when the copy was last replaced.
    return copy && now - copy.loadedAt.getTime() <= this.maxAgeMs ? copy : null;
  }
}

/** One copy per product-date (slots) or product (dates). */
export function lastGoodKey(key: ReadKey): string {
  return key.kind === 'slots' ? slotsKey(key.productId, key.date) : datesKey(key.productId);
}

interface Entry {
  read: CachedRead;
  /** For dates: the day the list starts at (a new day means a new list). */
  today?: string;
}

function slotsKey(productId: number, date: string): string {
  return `s:${productId}:${date}`;
}

function datesKey(productId: number): string {
  return `d:${productId}`;
}

/**
 * In-process LRU bounded by CACHE_MAX_ENTRIES with CACHE_TTL_MS per entry (either 0: off).
 * A per-product generation, bumped by every invalidation, keeps a load that started before a
 * sync's change from storing its old answer afterwards; concurrent misses of one key share a load.
 */
@Injectable()
export class LruReadCache extends ReadCache {
  private readonly entries: LRUCache<string, Entry> | undefined;
  private readonly generations = new Map<number, number>();
  private readonly inflight = new Map<string, { generation: number; read: Promise<CachedRead> }>();
  private readonly copies: LastGoodCopies;

  constructor(@InjectConfig() config: AppConfig) {
    super();
    const { maxEntries, ttlMs, staleIfErrorMs } = config.cache;
    this.copies = new LastGoodCopies(maxEntries, staleIfErrorMs);
    this.entries =
      maxEntries > 0 && ttlMs > 0
        ? new LRUCache<string, Entry>({ max: maxEntries, ttl: ttlMs, ttlAutopurge: false })
        : undefined;
  }

  get enabled(): boolean {
    return this.entries !== undefined;
  }

  async getOrLoad(key: ReadKey, load: () => Promise<CachedRead>): Promise<CachedRead> {
    if (!this.entries) {
      const value = await load();
      this.copies.remember(key, value);
      return value;
    }
    const id = key.kind === 'slots' ? slotsKey(key.productId, key.date) : datesKey(key.productId);
    const today = key.kind === 'dates' ? key.today : undefined;
    const hit = this.entries.get(id);
    if (hit && hit.today === today) return hit.read;

    const generation = this.generations.get(key.productId) ?? 0;
    const flightId = today === undefined ? id : `${id}:${today}`;
    const flying = this.inflight.get(flightId);
    if (flying && flying.generation === generation) return flying.read;

    const read = load();
    this.inflight.set(flightId, { generation, read });
    try {
      const value = await read;
      this.copies.remember(key, value);
      if ((this.generations.get(key.productId) ?? 0) === generation) {
        this.entries.set(id, { read: value, today });
      }
      return value;
    } finally {
      if (this.inflight.get(flightId)?.read === read) this.inflight.delete(flightId);
    }
  }

  async invalidateProductDate(productId: number, date: string): Promise<void> {
    this.bump(productId);
    this.entries?.delete(slotsKey(productId, date));
    this.entries?.delete(datesKey(productId));
  }

  async invalidateProduct(productId: number): Promise<void> {
    this.bump(productId);
    if (!this.entries) return;
    const prefix = slotsKey(productId, '');
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
    this.entries.delete(datesKey(productId));
  }

  async lastGood(key: ReadKey): Promise<CachedRead | null> {
    return this.copies.get(key);
  }

  private bump(productId: number): void {
    this.generations.set(productId, (this.generations.get(productId) ?? 0) + 1);
  }
}

/** Drops cached answers as soon as the sync reports a committed change of a product-date. */
@Injectable()
export class ReadCacheInvalidator implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ReadCacheInvalidator.name);
  private subscription: Subscription | undefined;

  constructor(
    private readonly events: InventoryEvents,
    private readonly cache: ReadCache,
  ) {}

  onModuleInit(): void {
    this.subscription = this.events.productDateChanged$.subscribe(({ productId, date }) => {
      this.cache.invalidateProductDate(productId, date).catch((err: unknown) =>
        this.logger.warn({
          msg: 'read cache invalidation failed',
          productId,
          date,
          error: err instanceof Error ? err.message : String(err),
        }),
      );
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
