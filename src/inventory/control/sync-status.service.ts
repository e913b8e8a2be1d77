import { Injectable, Optional } from '@nestjs/common';
import { SharedReading } from '../../common/shared-reading';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DatabaseOutageReporter, isDatabaseUnavailable } from '../../common/database-unavailable';
import { RateLimiterService } from '../../core/rate-limiter/rate-limiter.service';
import { AccuracyEstimateService } from '../accuracy/accuracy-estimate.service';
import { addDays, todayIn } from '../calendar';
import { LearnedRatesStatusService } from '../learning/learned-rates-status.service';
import { capacityPlan } from '../schedule/capacity-plan';
import { PerProductCallsService } from '../schedule/per-product-calls.service';
import { InjectLeadership, type Leadership } from '../schedule/leadership';
import { SchedulerService } from '../schedule/scheduler.service';
import { cronOf, WINDOW_DAYS } from '../schedule/windows';
import type {
  DueStatus,
  PlanStatus,
  FreshnessSummary,
  ProductFreshness,
  SyncRunSummary,
  SyncStatus,
  WindowStatus,
} from '../sync-status.types';
import { InventoryEvents } from '../inventory-events';
import {
  InjectWebhooksStatus,
  type WebhooksStatus,
  type WebhooksStatusSource,
} from '../changes/webhooks-status';
import { SYNC_WINDOWS, type SyncWindow } from '../sync-window';
import { SyncControlService } from './sync-control.service';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import {
  HORIZON_NAMES,
  horizonForDay,
  type HorizonName,
  type SyncPolicy,
} from '../policy/sync-policy';
import { DispatcherService } from '../dispatch/dispatcher.service';
import { floorSeconds, valueRuleTiming } from '../policy/call-value';
import type { DueSummary } from '../due/due-list';
import {
  DueListRepository,
  type BackingOffProduct,
  type HorizonFreshness,
} from '../due/due-list.repository';
import { CHANGED_SHARE_MS, PAGE_READING_LIMIT } from '../freshness/freshness.service';
import { ReadCache } from '../read/read-cache';
import { SyncRunsService, type SyncRunRow } from '../runs/sync-runs.service';

export const RECENT_RUNS = 20;
/** Products listed in status' `freshness`: the worst ones (GET /sync/freshness has every one). */
export const STATUS_WORST_PRODUCTS = 20;
/**
 * How long status answers one reading of the data ages again: it scans every product-date, so
 * however many pages poll status (each every 5 s) the database does it at most this often. A
 * finished run reads anew; after a changed product-date a reading is kept CHANGED_SHARE_MS (at
 * scale longer: PAGE_READING_LIMIT).
 */
export const STATUS_FRESHNESS_SHARE_MS = 10_000;

type RunRow = SyncRunRow;

/** What status reads from the database, kept to answer from while the database is down. */
/** The data ages and when they were read (one reading serves many status calls). */
type AgesReading = HorizonFreshness & { readAt: Date };

interface StoredParts {
  recent: RunRow[];
  lastPerWindow: (RunRow | null)[];
  freshness: AgesReading | null;
  due: DueSummary;
  backingOff: BackingOffProduct[];
  /** Null without the change feed (no WEBHOOKS_STATUS bound). */
  webhooks: WebhooksStatus | null;
  readAt: Date;
}

function summary(row: RunRow): SyncRunSummary {
  return {
    id: row.id,
    window: row.window as SyncWindow,
    trigger: row.trigger,
    scheduledFor: row.scheduledFor.toISOString(),
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    outcome: row.outcome,
    planned: row.planned,
    succeeded: row.succeeded,
    failed: row.failed,
    remaining: row.remaining,
    changed: row.changed,
    deduplicated: row.deduplicated,
    error: row.error,
  };
}

/**
 * Oldest data age per policy horizon; null when some date of the horizon was never synced. The
 * definition DueListRepository.horizonFreshness mirrors in SQL (its tests compare the two).
 */
export function oldestAges(
  policy: SyncPolicy,
  today: string,
  now: Date,
  successes: ReadonlyMap<string, Date>,
): ProductFreshness['oldestAgeSeconds'] {
  const out = {} as ProductFreshness['oldestAgeSeconds'];
  for (const { name, fromDay, toDay } of policy.horizons) {
    let oldest = 0;
    let missing = false;
    for (let o = fromDay; o <= toDay && !missing; o++) {
      const at = successes.get(addDays(today, o));
      if (at) oldest = Math.max(oldest, Math.round((now.getTime() - at.getTime()) / 1000));
      else missing = true;
    }
    out[name] = missing ? null : oldest;
  }
  return out;
}

/** Builds GET /api/v1/experience/sync/status from the database, the scheduler and the limiter. */
@Injectable()
export class SyncStatusService {
  private lastStored: StoredParts | null = null;
  // Concurrent status calls share one set of database reads (none kept once it answered) and
  // the data ages (kept a moment: the expensive part).
  private readonly stored = new SharedReading<StoredParts | null>(0);
  private readonly ages = new SharedReading<AgesReading>(
    STATUS_FRESHNESS_SHARE_MS,
    Date.now,
    PAGE_READING_LIMIT,
  );

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly limiter: RateLimiterService,
    private readonly scheduler: SchedulerService,
    private readonly control: SyncControlService,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    private readonly perProductCalls: PerProductCallsService,
    private readonly dueList: DueListRepository,
    private readonly runs: SyncRunsService,
    private readonly dispatcher: DispatcherService,
    private readonly outage: DatabaseOutageReporter,
    // Followers show the queue and budget the leader published (cluster); else their own.
    @InjectLeadership() private readonly leadership: Leadership,
    private readonly cache: ReadCache,
    private readonly accuracy: AccuracyEstimateService,
    private readonly learned: LearnedRatesStatusService,
    events: InventoryEvents,
    @Optional() @InjectWebhooksStatus() private readonly webhooks?: WebhooksStatusSource,
  ) {
    const forget = (): void => this.ages.invalidate();
    events.syncRunFinished$.subscribe(forget);
    events.productDateChanged$.subscribe(() => this.ages.changed(CHANGED_SHARE_MS));
  }

  async status(now: Date = new Date()): Promise<SyncStatus> {
    const { timeZone, productIds, cron } = this.config.sync;
    const today = todayIn(timeZone, now);
    const [stored, control, accuracy, learned] = await Promise.all([
      this.stored.read(() => this.readStored(today, productIds, now)),
      this.control.refresh(),
      this.accuracy.withHistory(),
      this.learned.current(),
    ]);
    const degraded = stored === null;
    const { recent, lastPerWindow, freshness, due, backingOff, webhooks, readAt } = stored ??
      this.lastStored ?? {
        recent: [],
        lastPerWindow: SYNC_WINDOWS.map(() => null),
        freshness: null,
        due: [],
        backingOff: [],
        webhooks: null,
        readAt: null,
      };

    const windows: WindowStatus[] = SYNC_WINDOWS.map((window, i) => {
      const last = lastPerWindow[i];
      return {
        window,
        cron: cronOf(window, cron),
        days: { ...WINDOW_DAYS[window] },
        nextRunAt: this.scheduler.nextRunAt(window)?.toISOString() ?? null,
        running: this.scheduler.isRunning(window) || last?.outcome === 'running',
        progress: this.scheduler.runProgress(window, now.getTime()),
        lastRun: last ? summary(last) : null,
      };
    });

    return {
      paused: control.paused,
      pausedSince: control.paused ? control.since : null,
      pausedBy: control.paused ? control.by : null,
      timeZone,
      today,
      control: { tokenRequired: this.config.adminToken !== undefined },
      instance: { id: this.scheduler.instanceId, leader: this.scheduler.isLeader() },
      leader: this.scheduler.currentLeader(),
      windows,
      horizons: this.policy.horizons.map((h) => ({ ...h, windows: [...h.windows] })),
      plan: this.planStatus(),
      recentRuns: recent.map(summary),
      limiter:
        (this.scheduler.isLeader() ? null : this.leadership.leaderLimiterState?.()) ??
        this.limiter.state(),
      capacity: capacityPlan({
        policy: this.policy,
        products: productIds.length,
        perProduct: this.perProductCalls.at(now),
        rateLimit: this.config.partner.rateLimit,
        rateWindowMs: this.config.partner.rateWindowMs,
        keys: this.config.partner.apiKeys.length,
      }),
      due: this.dueStatus(due, backingOff),
      freshness: freshness?.worst ?? [],
      freshnessSummary: this.freshnessSummary(productIds.length, freshness),
      accuracy,
      learned,
      webhooks,
      degraded,
      dataAsOf: readAt?.toISOString() ?? null,
      readCache: this.cache.health(),
    };
  }

  private freshnessSummary(products: number, ages: AgesReading | null): FreshnessSummary {
    const byHorizon =
      ages?.byHorizon ??
      (Object.fromEntries(
        HORIZON_NAMES.map((h) => [
          h,
          { oldestAgeSeconds: null, productsNeverSynced: 0, productsOverTarget: 0 },
        ]),
      ) as FreshnessSummary['byHorizon']);
    return {
      products,
      listed: ages?.worst.length ?? 0,
      asOf: ages?.readAt.toISOString() ?? null,
      byHorizon,
    };
  }

  private planStatus(): PlanStatus {
    const plan = this.dispatcher.planSnapshot();
    return {
      budgetShare: this.config.sync.budgetShare,
      floorSeconds: floorSeconds(this.policy),
      rankedAt: plan.rankedAt?.toISOString() ?? null,
      rankMs: plan.rankMs,
      forcedMinutes:
        (plan.forcedBuckets * valueRuleTiming(this.config.partner.rateWindowMs).bucketMs) / 60_000,
      lists: plan.lists,
      next: plan.next.map((e) => ({
        productId: e.productId,
        date: e.date,
        why: e.why,
        value: e.value,
        deadline: e.deadline.toISOString(),
        changeRatePerHour: e.changeRatePerHour,
        readsPerHour: e.readsPerHour,
      })),
    };
  }

  private dueStatus(summary: DueSummary, products: BackingOffProduct[]): DueStatus {
    const byHorizon = Object.fromEntries(HORIZON_NAMES.map((h) => [h, 0])) as Record<
      HorizonName,
      number
    >;
    let total = 0;
    let backingOff = 0;
    let manual = 0;
    let oldest: Date | null = null;
    for (const day of summary) {
      byHorizon[horizonForDay(this.policy, day.day).name] += day.due;
      total += day.due;
      backingOff += day.backingOff;
      manual += day.manual;
      if (day.oldestDueSince && (!oldest || day.oldestDueSince < oldest))
        oldest = day.oldestDueSince;
    }
    return {
      total,
      byHorizon,
      backingOff,
      manual,
      oldestDueSince: oldest?.toISOString() ?? null,
      inFlight: this.dispatcher.inFlightCount,
      productsBackingOff: products.map((b) => ({
        productId: b.productId,
        since: b.since.toISOString(),
        consecutiveFailures: b.consecutiveFailures,
        nextProbeAt: b.nextProbeAt?.toISOString() ?? null,
        lastOutcome: b.lastOutcome,
      })),
    };
  }

  /** The database parts, or null when the database cannot answer (status is then degraded). */
  private async readStored(
    today: string,
    productIds: number[],
    now: Date,
  ): Promise<StoredParts | null> {
    try {
      const [[recent, lastPerWindow], freshness, due, backingOff, webhooks] = await Promise.all([
        // The latest run of a window among the recent ones needs no query of its own.
        this.runs
          .recent(RECENT_RUNS)
          .then(async (recent) => [recent, await this.runs.lastOf(SYNC_WINDOWS, recent)] as const),
        this.ages.read(async () => ({
          ...(await this.dueList.horizonFreshness({
            productIds,
            today,
            policy: this.policy,
            now,
            worst: STATUS_WORST_PRODUCTS,
          })),
          readAt: now,
        })),
        this.dueList.summary(productIds, today, addDays(today, this.policy.lastDay)),
        this.dueList.backingOffProducts(productIds),
        this.webhooks?.webhooksStatus() ?? null,
      ]);
      this.lastStored = {
        recent,
        lastPerWindow,
        freshness,
        due,
        backingOff,
        webhooks,
        readAt: new Date(),
      };
      return this.lastStored;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.outage.report('sync status', err);
      return null;
    }
  }
}
