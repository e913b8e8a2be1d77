import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { RateLimiterService } from '../core/rate-limiter/rate-limiter.service';
import type { BreakerState } from '../core/rate-limiter/rate-limiter.types';
import { AccuracyEstimateService } from '../inventory/accuracy/accuracy-estimate.service';
import { todayIn } from '../inventory/calendar';
import { SyncControlService } from '../inventory/control/sync-control.service';
import { DueListRepository } from '../inventory/due/due-list.repository';
import { ReadCache } from '../inventory/read/read-cache';
import { SchedulerService } from '../inventory/schedule/scheduler.service';
import type { HorizonName, SyncPolicy } from '../inventory/policy/sync-policy';
import { InjectSyncPolicy } from '../inventory/policy/sync-policy.provider';
import { SYNC_WINDOWS } from '../inventory/sync-window';
import { METRIC_PREFIX, MetricsService } from './metrics.service';

export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

export interface DataAgeSample {
  /** The SyncPolicy horizon (the metrics' `range` label). */
  range: HorizonName;
  /** Seconds since the least recently synced product-date of the range was stored; null: none. */
  oldestAgeSeconds: number | null;
  /** Product-dates of the range that were never synced successfully. */
  neverSynced: number;
  /** Product-dates of the range in the due list (waiting for a fetch). */
  due: number;
}

interface DataSnapshot {
  at: number;
  ages: DataAgeSample[];
  paused: boolean | null;
  /** Products backing off after repeated failures (null: the database did not answer). */
  productsBackingOff: number | null;
}

// Scrapes come every 15-60 s from each Prometheus; a few seconds of caching keeps them cheap.
const DATA_CACHE_MS = 5000;

/**
 * Gauges that read state when Prometheus scrapes: the partner budget's queue, spend, keys and
 * breakers (from RateLimiterService) and the age of stored data (from product_date_syncs).
 */
@Injectable()
export class StateGauges implements OnModuleInit {
  private readonly logger = new Logger(StateGauges.name);
  private snapshot: DataSnapshot | null = null;
  private pending: Promise<DataSnapshot> | null = null;

  constructor(
    private readonly metrics: MetricsService,
    private readonly syncStates: DueListRepository,
    private readonly control: SyncControlService,
    private readonly limiter: RateLimiterService,
    private readonly scheduler: SchedulerService,
    private readonly accuracy: AccuracyEstimateService,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    private readonly cache: ReadCache,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const limiter = this.limiter;
    const scheduler = this.scheduler;

    // Partner calls are counted by the limiter's observer; the gauges read its state.
    limiter.observe(this.metrics);
    new Gauge({
      name: `${METRIC_PREFIX}limiter_queue_depth`,
      help: 'Partner jobs the dispatcher handed to the limiter that wait for a turn',
      registers,
      collect() {
        this.set(limiter.state().queued);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}limiter_running_jobs`,
      help: 'Partner calls in flight, over every key',
      registers,
      collect() {
        this.set(limiter.state().running);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}limiter_budget_spent`,
      help: 'Partner calls started within the current rate window, over every key',
      registers,
      collect() {
        this.set(limiter.state().spentInWindow);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}limiter_budget_limit`,
      help: 'Partner calls allowed per rate window, the sum of every key',
      registers,
      collect() {
        this.set(limiter.state().limit);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}limiter_paused_until_timestamp_seconds`,
      help: 'Unix time until which every key is held after 429s (0 while any key takes calls)',
      registers,
      collect() {
        const s = limiter.state();
        this.set(s.pausedUntil ? Date.parse(s.pausedUntil) / 1000 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}partner_breaker_state`,
      help: 'Worst partner circuit breaker over the keys: 0 closed, 1 half-open, 2 open',
      registers,
      collect() {
        const s = limiter.state();
        this.set(BREAKER_STATE_VALUE[s.breaker] ?? 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}limiter_key_budget_spent`,
      help: 'Partner calls started within the current rate window, by key ("key #1")',
      labelNames: ['key'] as const,
      registers,
      collect() {
        for (const k of limiter.state().keys) this.set({ key: k.name }, k.spentInWindow);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}limiter_key_usable`,
      help: '1 while the key is in rotation (active or probing), 0 while held, rejected or its breaker is open',
      labelNames: ['key'] as const,
      registers,
      collect() {
        for (const k of limiter.state().keys) {
          this.set({ key: k.name }, k.state === 'active' || k.state === 'probing' ? 1 : 0);
        }
      },
    });

    new Gauge({
      name: `${METRIC_PREFIX}sync_run_stalled`,
      help: '1 while the window has a run none of whose product-dates finished for SYNC_STALL_AFTER_MS, else 0',
      labelNames: ['window'] as const,
      registers,
      collect() {
        for (const window of SYNC_WINDOWS) {
          this.set({ window }, scheduler.runProgress(window)?.stalled ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: '1 when this instance runs the schedules and spends the partner budget (the leader), else 0',
      registers,
      collect() {
        this.set(scheduler.isLeader() ? 1 : 0);
      },
    });

    // Only with REDIS_URL: the shared read cache in use (1) or skipped (0), and its breaker.
    const cache = this.cache;
    new Gauge({
      name: `${METRIC_PREFIX}read_cache_redis_up`,
      help: '1 while reads use the shared Redis cache, 0 while they skip it (degraded: in-process cache and database); absent without REDIS_URL',
      registers,
      collect() {
        this.reset();
        const shared = cache.health().shared;
        if (shared) this.set(shared.state === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}read_cache_redis_breaker_state`,
      help: 'Circuit breaker of the shared Redis read cache: 0 closed, 1 half-open, 2 open; absent without REDIS_URL',
      registers,
      collect() {
        this.reset();
        const shared = cache.health().shared;
        if (shared) this.set(BREAKER_STATE_VALUE[shared.breaker]);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}read_cache_redis_pending_invalidations`,
      help: 'Invalidations not yet applied to the shared Redis read cache (applied before it is read again); absent without REDIS_URL',
      registers,
      collect() {
        this.reset();
        const shared = cache.health().shared;
        if (shared) this.set(shared.pendingInvalidations);
      },
    });

    const data = (): Promise<DataSnapshot> => this.dataSnapshot();
    new Gauge({
      name: `${METRIC_PREFIX}oldest_data_age_seconds`,
      help: 'Age of the least recently synced stored data of the configured products, by SyncPolicy horizon (today, week = +1..+6, month = +7..+29, extended = +30..+59)',
      labelNames: ['range'] as const,
      registers,
      async collect() {
        this.reset();
        for (const s of (await data()).ages) {
          if (s.oldestAgeSeconds !== null) this.set({ range: s.range }, s.oldestAgeSeconds);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}never_synced_product_dates`,
      help: 'Product-dates of the configured products never synced successfully, by SyncPolicy horizon',
      labelNames: ['range'] as const,
      registers,
      async collect() {
        this.reset();
        for (const s of (await data()).ages) this.set({ range: s.range }, s.neverSynced);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}due_product_dates`,
      help: 'Product-dates of the configured products waiting in the due list, by SyncPolicy horizon',
      labelNames: ['range'] as const,
      registers,
      async collect() {
        this.reset();
        for (const s of (await data()).ages) this.set({ range: s.range }, s.due);
      },
    });
    const accuracy = this.accuracy;
    new Gauge({
      name: `${METRIC_PREFIX}expected_fresh_reads_ratio`,
      help: 'Estimated share of reads served equal to the partner (0..1), by SyncPolicy horizon and "all"; absent until a horizon has observations',
      labelNames: ['range'] as const,
      registers,
      async collect() {
        this.reset();
        const estimate = await accuracy.current();
        if (!estimate) return;
        if (estimate.expectedFreshReads !== null) {
          this.set({ range: 'all' }, estimate.expectedFreshReads);
        }
        for (const h of estimate.horizons) {
          if (h.expectedFreshReads !== null) this.set({ range: h.name }, h.expectedFreshReads);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}change_rate_per_second`,
      help: 'Estimated changes per second of one product-date at the partner, by SyncPolicy horizon (Poisson MLE over the last 24 h of syncs)',
      labelNames: ['range'] as const,
      registers,
      async collect() {
        this.reset();
        const estimate = await accuracy.current();
        for (const h of estimate?.horizons ?? []) {
          if (h.changeRatePerHour !== null) this.set({ range: h.name }, h.changeRatePerHour / 3600);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}sync_paused`,
      help: '1 when syncing is paused by an operator (shared by every instance), else 0',
      registers,
      async collect() {
        this.reset();
        const paused = (await data()).paused;
        if (paused !== null) this.set(paused ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}products_backing_off`,
      help: 'Configured products whose partner calls failed repeatedly (3 in a row across their dates): taken one date at a time as a probe, behind the others, until one succeeds',
      registers,
      async collect() {
        this.reset();
        const n = (await data()).productsBackingOff;
        if (n !== null) this.set(n);
      },
    });
  }

  private async dataSnapshot(): Promise<DataSnapshot> {
    if (this.snapshot && Date.now() - this.snapshot.at < DATA_CACHE_MS) return this.snapshot;
    this.pending ??= this.readData()
      .catch((err: unknown) => {
        // The database being away must not break the scrape; health reports it.
        this.logger.debug({ msg: 'data gauges unavailable', error: (err as Error).message });
        return { at: Date.now(), ages: [], paused: null, productsBackingOff: null };
      })
      .then((snapshot) => {
        this.snapshot = snapshot;
        return snapshot;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  private async readData(): Promise<DataSnapshot> {
    const now = new Date();
    const today = todayIn(this.config.sync.timeZone, now);
    const productIds = this.config.sync.productIds;
    const [stats, control, backingOff] = await Promise.all([
      this.syncStates.rangeStats(productIds, today, this.policy.horizons),
      this.control.refresh(),
      this.syncStates.backingOffProducts(productIds),
    ]);
    const ages = this.policy.horizons.map(({ name: range, fromDay, toDay }, i) => {
      const { oldestSuccessAt: oldest, synced, due } = stats[i];
      const expected = productIds.length * (toDay - fromDay + 1);
      return {
        range,
        oldestAgeSeconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : null,
        neverSynced: Math.max(0, expected - synced),
        due,
      };
    });
    return { at: Date.now(), ages, paused: control.paused, productsBackingOff: backingOff.length };
  }
}
