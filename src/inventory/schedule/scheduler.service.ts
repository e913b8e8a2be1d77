import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { publicErrorMessage } from '../../common/database-unavailable';
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
import { SyncRunsService, type RunTrigger } from '../runs/sync-runs.service';
import { SYNC_WINDOWS, type SyncWindow } from '../sync-window';
import { InjectLeadership, type Leadership } from './leadership';
import { OverdueRuleService } from './overdue-rule.service';
import type { RunProgress } from './run-progress';
import { RunMonitorService } from './run-monitor.service';
import { RunMarkFailedError, UnknownProductError, UnknownWindowError } from './run-request-errors';
import { cronOf, occurrenceKey, WINDOW_DAYS } from './windows';

export interface StartedRun {
  runId: number;
  /** Always false: a manual run marks its product-dates due again, it never joins another run. */
  alreadyRunning: boolean;
  /** Product-dates of the run that are due after its mark (the leader takes them first). */
  marked: number;
  /** The instance that recorded the run (any instance may; only the leader fetches). */
  requestedBy: string;
}

const JOB_PREFIX = 'sync:';

/**
 * Runs the sync windows as data: one named cron job per window (in SYNC_TIMEZONE) whose tick
 * records one sync_runs row per occurrence and marks the window's product-dates due in one
 * statement; the dispatcher works through the due list. The catch-up is OverdueRuleService's one
 * rule, run progress RunMonitorService's.
 */
@Injectable()
export class SchedulerService
  implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger(SchedulerService.name);
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
    private readonly overdue: OverdueRuleService,
    private readonly monitor: RunMonitorService,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    @InjectLeadership() private readonly leadership: Leadership,
  ) {}

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
      const job = CronJob.from({
        cronTime: cronOf(window, this.config.sync.cron),
        timeZone: this.config.sync.timeZone,
        // Cron fires on whole seconds (a few ms late): the rounded instant names the occurrence.
        onTick: () => this.tick(window, new Date(Math.round(Date.now() / 1000) * 1000)),
        start: true,
        name: `${JOB_PREFIX}${window}`,
      });
      this.registry.addCronJob(`${JOB_PREFIX}${window}`, job);
    }
    this.overdue.watch();
    this.leadership.onLeadershipGained?.(
      () => void this.onLeadershipGained().catch(() => undefined),
    );
    if (this.isLeader()) await this.overdue.apply('boot');
    this.dispatcher.start();
    this.monitor.start();
  }

  /**
   * This instance took over from another leader. The due list and the open runs are in
   * PostgreSQL: the new leader just applies the overdue rule (fresh product-dates are not
   * refetched; recorded occurrences cannot run again).
   */
  async onLeadershipGained(): Promise<void> {
    await this.overdue.apply('leadership');
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
    this.monitor.stop();
  }

  /** Nest destroys modules (PrismaService closes its pool) after this: ticks stop first. */
  onModuleDestroy(): void {
    this.stop();
    this.overdue.stop();
    for (const window of SYNC_WINDOWS) {
      const name = `${JOB_PREFIX}${window}`;
      if (this.registry.doesExist('cron', name)) this.registry.deleteCronJob(name);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // In-flight work ends quickly once the limiter drains (its jobs are refused as not started).
    await this.dispatcher.settled(this.config.shutdownTimeoutMs);
    await this.monitor.settled();
  }

  /** Next firing of a window's cron job, or null when not scheduled (e.g. shutting down). */
  nextRunAt(window: SyncWindow): Date | null {
    const name = `${JOB_PREFIX}${window}`;
    if (!this.registry.doesExist('cron', name)) return null;
    return this.registry.getCronJob(name).nextDate().toJSDate();
  }

  /** True while a run of `window` still has product-dates waiting (as last counted). */
  isRunning(window: SyncWindow): boolean {
    return this.monitor.isRunning(window);
  }

  /** Progress of the window's oldest run going on (counted every second), or null when none. */
  runProgress(window: SyncWindow, now: number = Date.now()): RunProgress | null {
    return this.monitor.runProgress(window, now);
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
      // What the tick was for (its product-dates past their target) is marked by the catch-up
      // rule, retried until it succeeds.
      this.overdue.applySoon('failed-mark');
    }
  }

  /**
   * Manual trigger, on any instance: marks the window's product-dates (optionally of some
   * products) due at top urgency and records the run under this instance's id. The due list is
   * shared, so the leader's dispatcher takes them before anything scheduled.
   */
  async runNow(window: SyncWindow, productIds?: number[]): Promise<StartedRun> {
    if (!SYNC_WINDOWS.includes(window)) throw new UnknownWindowError(window);
    const products = this.productsFor(productIds);
    if (this.control.isPaused()) {
      throw new SyncPausedError('Sync is paused; resume it before triggering a run');
    }
    const started = await this.startRun(window, 'manual', new Date(), products);
    if (started === null) throw new Error(`manual run of ${window} was not recorded`);
    return { ...started, alreadyRunning: false, requestedBy: this.instanceId };
  }

  /**
   * Records the run, then marks its scope due (in bounded batches: see DueListRepository.markDue).
   * A mark that fails ends the run as failed and throws RunMarkFailedError.
   */
  private async startRun(
    window: SyncWindow,
    trigger: RunTrigger,
    scheduledFor: Date,
    productIds: number[],
  ): Promise<{ runId: number; marked: number } | null> {
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
      // The leader counts it from the due list within a second; until then it is known to go.
      if (this.isLeader()) {
        this.monitor.noteStarted({
          runId,
          window,
          startedAt: since,
          lastProgressAt: since,
          remaining: marked.due,
        });
      }
      this.dispatcher.marked();
      this.logger.log({
        msg: 'sync run started',
        runId,
        window,
        trigger,
        due: marked.due,
        shared: marked.shared,
      });
      return { runId, marked: marked.due };
    } catch (err) {
      await this.runs
        .fail(
          runId,
          window,
          `could not mark the run's product-dates due: ${publicErrorMessage(err)}`,
        )
        .catch(() => undefined);
      throw new RunMarkFailedError(runId, err);
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
