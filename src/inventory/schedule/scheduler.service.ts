import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { DomainError } from '../../common/domain-error';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DatabaseOutage } from '../../core/database/database-outage';
import { addDays, todayIn } from '../calendar';
import { SyncControlService } from '../control/sync-control.service';
import { SyncPausedError } from '../control/sync-paused.error';
import { DispatcherService } from '../dispatch/dispatcher.service';
import type { RunScope } from '../due/due-list';
import { DueListRepository, MANUAL_PRIORITY, SCHEDULED_PRIORITY } from '../due/due-list.repository';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import { ProductsRepository } from '../products/products.repository';
import type { SyncPolicy } from '../policy/sync-policy';
import { SyncRunsService, type OpenRun, type RunTrigger } from '../runs/sync-runs.service';
import { SYNC_WINDOWS, type SyncWindow } from '../sync-window';
import {
  LEADERSHIP,
  NotSyncLeaderError,
  SoleInstanceLeadership,
  type Leadership,
} from './leadership';
import { isRunStalled, type RunProgress } from './run-progress';
import { cronOf, occurrenceKey, WINDOW_DAYS } from './windows';

export interface StartedRun {
  runId: number;
  /** Always false: a manual run marks its product-dates due again, it never joins another run. */
  alreadyRunning: boolean;
}

export class UnknownProductError extends DomainError {
  readonly httpStatus = 400;
  constructor(ids: number[], configured: number[]) {
    super(
      `Product ${ids.join(', ')} is not synced by this service (SYNC_PRODUCT_IDS: ${configured.join(', ')})`,
    );
  }
}

export class UnknownWindowError extends DomainError {
  readonly httpStatus = 400;
  constructor(window: unknown) {
    super(`window must be one of ${SYNC_WINDOWS.join(', ')}, got ${JSON.stringify(window)}`);
  }
}

const JOB_PREFIX = 'sync:';
/** How often the leader recounts the runs going on (their progress comes from the due list). */
export const RUN_REFRESH_MS = 1000;

/**
 * Runs the sync windows as data: one named cron job per window (in SYNC_TIMEZONE) whose tick
 * records one sync_runs row per occurrence and marks the window's product-dates due in one
 * statement; the dispatcher works through the due list. At boot, on gaining leadership and on
 * resume, one rule applies: product-dates older than their policy target are marked due. That is
 * the whole catch-up, whatever happened before (restart, SIGKILL, failover, a long pause).
 */
@Injectable()
export class SchedulerService
  implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger(SchedulerService.name);
  private readonly leadership: Leadership;
  /** The oldest run going on per window, as last counted from the due list. */
  private going = new Map<SyncWindow, OpenRun>();
  /** Runs already reported as stalled (one warning each, not one per count). */
  private readonly warnedStalled = new Set<number>();
  private unsubscribeRecovery: (() => void) | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | null = null;
  private stopping = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly products: ProductsRepository,
    private readonly registry: SchedulerRegistry,
    private readonly control: SyncControlService,
    private readonly dueList: DueListRepository,
    private readonly runs: SyncRunsService,
    private readonly dispatcher: DispatcherService,
    private readonly outage: DatabaseOutage,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    @Optional() @Inject(LEADERSHIP) leadership?: Leadership,
  ) {
    this.leadership = leadership ?? new SoleInstanceLeadership(config.cluster.instanceId);
  }

  get instanceId(): string {
    return this.leadership.instanceId();
  }

  isLeader(): boolean {
    return this.leadership.isLeader();
  }

  /** The cluster's leader; null without a lease (single instance) or when unknown. */
  currentLeader(): { id: string; since: string } | null {
    return this.leadership.currentLeader();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.products.register(this.config.sync.productIds);
    for (const window of SYNC_WINDOWS) {
      const cron = cronOf(window, this.config.sync.cron);
      const job = CronJob.from({
        cronTime: cron,
        timeZone: this.config.sync.timeZone,
        // Cron fires on whole seconds (a few ms late): the rounded instant names the occurrence.
        onTick: () => this.tick(window, new Date(Math.round(Date.now() / 1000) * 1000)),
        start: true,
        name: `${JOB_PREFIX}${window}`,
      });
      this.registry.addCronJob(`${JOB_PREFIX}${window}`, job);
    }
    this.control.onResume(() => void this.applyOverdueRule('resume'));
    this.leadership.onLeadershipGained?.(
      () => void this.onLeadershipGained().catch(() => undefined),
    );
    // What went stale during a database outage is marked at once, not at the next ticks.
    this.unsubscribeRecovery = this.outage.onRecovered(() => {
      void this.applyOverdueRule('recovered');
    });
    if (this.isLeader()) await this.applyOverdueRule('boot');
    this.dispatcher.start();
    this.refreshTimer = setInterval(() => void this.refreshRuns(), RUN_REFRESH_MS);
    this.refreshTimer.unref();
  }

  /**
   * This instance took over from another leader. The due list and the open runs are in
   * PostgreSQL: the new leader just applies the overdue rule (fresh product-dates are not
   * refetched; recorded occurrences cannot run again).
   */
  async onLeadershipGained(): Promise<void> {
    await this.applyOverdueRule('leadership');
    this.dispatcher.wake();
  }

  /**
   * The process is stopping (the shutdown coordinator calls this before it drains the limiter):
   * no tick marks anything and the dispatcher takes no more work. Runs going on stay open: the
   * next leader (or this service's next start) finishes them from the due list.
   */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.dispatcher.stop();
    clearInterval(this.refreshTimer);
  }

  /** Nest destroys modules (PrismaService closes its pool) after this: ticks stop first. */
  onModuleDestroy(): void {
    this.stop();
    this.unsubscribeRecovery?.();
    for (const window of SYNC_WINDOWS) {
      const name = `${JOB_PREFIX}${window}`;
      if (this.registry.doesExist('cron', name)) this.registry.deleteCronJob(name);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // In-flight work ends quickly once the limiter drains (its jobs are refused as not started).
    await this.dispatcher.settled(this.config.shutdownTimeoutMs);
    await this.refreshing;
  }

  /** Next firing of a window's cron job, or null when not scheduled (e.g. shutting down). */
  nextRunAt(window: SyncWindow): Date | null {
    const name = `${JOB_PREFIX}${window}`;
    if (!this.registry.doesExist('cron', name)) return null;
    return this.registry.getCronJob(name).nextDate().toJSDate();
  }

  /** True while a run of `window` still has product-dates waiting (as last counted). */
  isRunning(window: SyncWindow): boolean {
    return this.going.has(window);
  }

  /** Progress of the window's oldest run going on (counted every second), or null when none. */
  runProgress(window: SyncWindow, now: number = Date.now()): RunProgress | null {
    const run = this.going.get(window);
    if (!run) return null;
    return {
      runId: run.runId,
      startedAt: run.startedAt.toISOString(),
      lastProgressAt: run.lastProgressAt.toISOString(),
      pending: run.remaining,
      stalled: isRunStalled(
        now,
        run.lastProgressAt.getTime(),
        run.remaining,
        this.config.sync.stallAfterMs,
      ),
    };
  }

  /** One cron tick of `window` for the occurrence at `scheduledFor`. */
  async tick(window: SyncWindow, scheduledFor: Date): Promise<void> {
    if (this.stopping || !this.isLeader()) return;
    const occurrence = occurrenceKey(window, scheduledFor);
    try {
      if (this.control.isPaused()) {
        const recorded = await this.runs.recordSkipped({
          window,
          scheduledFor,
          occurrence,
          reason: 'sync is paused',
          instanceId: this.instanceId,
        });
        if (recorded) this.logger.log({ msg: 'sync run skipped', window, reason: 'paused' });
        return;
      }
      await this.startRun(window, 'schedule', scheduledFor, this.config.sync.productIds);
    } catch (err) {
      if (this.outage.report('window tick', err)) return;
      this.logger.error({ msg: 'window tick failed', window, error: (err as Error).message });
    }
  }

  /**
   * Manual trigger: marks the window's product-dates (optionally of some products) due at top
   * urgency and records the run; the dispatcher takes them before anything scheduled.
   */
  async runNow(window: SyncWindow, productIds?: number[]): Promise<StartedRun> {
    if (!SYNC_WINDOWS.includes(window)) throw new UnknownWindowError(window);
    const products = this.productsFor(productIds);
    if (!this.isLeader()) {
      throw new NotSyncLeaderError(this.instanceId, this.leadership.currentLeader()?.id ?? null);
    }
    if (this.control.isPaused()) {
      throw new SyncPausedError('Sync is paused; resume it before triggering a run');
    }
    const runId = await this.startRun(window, 'manual', new Date(), products);
    if (runId === null) throw new Error(`manual run of ${window} was not recorded`);
    return { runId, alreadyRunning: false };
  }

  /** Records the run, then marks its scope due in one statement. */
  private async startRun(
    window: SyncWindow,
    trigger: RunTrigger,
    scheduledFor: Date,
    productIds: number[],
  ): Promise<number | null> {
    // A run counts from its instant; never from the future (a tick cannot fire ahead of time).
    const since = new Date(Math.min(scheduledFor.getTime(), Date.now()));
    const today = todayIn(this.config.sync.timeZone, since);
    const { from, to } = WINDOW_DAYS[window];
    const scope: RunScope = { productIds, from: addDays(today, from), to: addDays(today, to) };
    const runId = await this.runs.start({
      window,
      trigger,
      scheduledFor,
      scope,
      occurrence: trigger === 'schedule' ? occurrenceKey(window, scheduledFor) : null,
      instanceId: this.instanceId,
    });
    if (runId === null) {
      this.logger.log({ msg: 'window occurrence already run elsewhere', window, scheduledFor });
      return null;
    }
    try {
      const marked = await this.dueList.markDue({
        scope,
        reason: trigger === 'manual' ? 'manual' : window,
        priority: trigger === 'manual' ? MANUAL_PRIORITY : SCHEDULED_PRIORITY,
        // A manual run wants new data whatever its age; windows firing together share.
        freshSince: since,
        today,
        policy: this.policy,
      });
      await this.runs.recordShared(runId, marked.shared);
      // Counted from the due list within a second; until then the run is known to be going.
      if (!this.going.has(window)) {
        this.going.set(window, {
          runId,
          window,
          startedAt: since,
          lastProgressAt: since,
          remaining: marked.due,
        });
      }
      this.dispatcher.wake();
      this.logger.log({
        msg: 'sync run started',
        runId,
        window,
        trigger,
        due: marked.due,
        shared: marked.shared,
      });
    } catch (err) {
      await this.runs.fail(
        runId,
        window,
        `could not mark the run's product-dates due: ${(err as Error).message}`,
      );
      throw err;
    }
    return runId;
  }

  /**
   * The one catch-up rule: every product-date of the configured products (today .. +59) whose
   * data is older than its policy target, or was never synced, is marked due; marks of removed
   * products and of past dates are dropped.
   */
  async applyOverdueRule(reason: 'boot' | 'leadership' | 'resume' | 'recovered'): Promise<void> {
    if (!this.isLeader() || this.stopping) return;
    const { productIds, timeZone, onBoot } = this.config.sync;
    const today = todayIn(timeZone);
    try {
      const dropped = await this.dueList.dropOutside(productIds, today);
      if (!onBoot && reason !== 'resume' && reason !== 'recovered') {
        if (dropped > 0) this.logger.log({ msg: 'dropped due product-dates', dropped });
        return;
      }
      const marked = await this.dueList.markDue({
        scope: { productIds, from: today, to: addDays(today, this.policy.lastDay) },
        reason: 'boot',
        priority: SCHEDULED_PRIORITY,
        freshSince: null,
        today,
        policy: this.policy,
      });
      this.logger.log({
        msg: 'overdue product-dates marked due',
        reason,
        due: marked.due,
        dropped,
      });
      this.dispatcher.wake();
    } catch (err) {
      if (this.outage.report('catch-up', err)) return;
      this.logger.error({
        msg: 'could not apply the overdue rule',
        reason,
        error: (err as Error).message,
      });
    }
  }

  private async refreshRuns(): Promise<void> {
    if (this.refreshing || this.stopping || !this.isLeader()) return;
    this.refreshing = this.runs
      .refreshOpen()
      .then((open) => {
        const going = new Map<SyncWindow, OpenRun>();
        for (const run of open) if (!going.has(run.window)) going.set(run.window, run);
        this.going = going;
        this.warnStalled(open);
      })
      .catch((err: unknown) => {
        if (this.outage.report('run record', err)) return;
        this.logger.debug({ msg: 'could not refresh runs', error: (err as Error).message });
      })
      .finally(() => {
        this.refreshing = null;
      });
    await this.refreshing;
  }

  /** One warning when a run stops moving: it needs an operator, not a line per second. */
  private warnStalled(open: OpenRun[]): void {
    const now = Date.now();
    const ids = new Set(open.map((r) => r.runId));
    for (const id of this.warnedStalled) if (!ids.has(id)) this.warnedStalled.delete(id);
    for (const run of open) {
      const stalled = isRunStalled(
        now,
        run.lastProgressAt.getTime(),
        run.remaining,
        this.config.sync.stallAfterMs,
      );
      if (!stalled || this.warnedStalled.has(run.runId)) continue;
      this.warnedStalled.add(run.runId);
      this.logger.warn({
        msg: 'sync run made no progress',
        runId: run.runId,
        window: run.window,
        lastProgressAt: run.lastProgressAt.toISOString(),
        pending: run.remaining,
      });
    }
  }

  private productsFor(requested?: number[]): number[] {
    const configured = this.config.sync.productIds;
    if (!requested || requested.length === 0) return configured;
    const unknown = requested.filter((id) => !configured.includes(id));
    if (unknown.length > 0) throw new UnknownProductError(unknown, configured);
    return [...new Set(requested)];
  }
}
