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
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { MetricsService } from '../../ops/metrics.service';
import { toDbDate } from '../calendar';
import { SyncControlService } from '../control/sync-control.service';
import { SyncPausedError } from '../control/sync-paused.error';
import { SYNC_WINDOWS, type SyncWindow } from '../sync-window';
import { SyncService, type SyncResult } from '../sync/sync.service';
import {
  LEADERSHIP,
  NotSyncLeaderError,
  SoleInstanceLeadership,
  type Leadership,
} from './leadership';
import { isRunStalled, type RunProgress } from './run-progress';
import { cronIntervalMs, cronOf, occurrenceKey, planWindow, type PlannedSync } from './windows';

export type RunTrigger = 'schedule' | 'boot' | 'manual';

export interface RunOptions {
  trigger: RunTrigger;
  /** Restrict to these configured products (manual trigger). */
  productIds?: number[];
  /** The tick's instant (scheduled runs); defaults to now. */
  scheduledFor?: Date;
  /** Only product-dates whose data is older than the window's interval (boot catch-up). */
  staleOnly?: boolean;
}

export interface StartedRun {
  runId: number;
  /** True when the window was already running and that run is returned instead. */
  alreadyRunning: boolean;
  /** Resolves when the run is finished and recorded. */
  done: Promise<void>;
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

/** Unique-key violation: another instance already recorded this window occurrence. */
function isDuplicateOccurrence(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

/**
 * Runs the sync windows: one named cron job per window (in SYNC_TIMEZONE), each tick planning
 * product × dates and handing them to SyncService with the window's priorities. Product-dates
 * shared by windows firing together are fetched once (SyncService and the limiter dedupe by
 * product-date). Every tick leaves a sync_runs row, including the skipped ones.
 */
@Injectable()
export class SchedulerService
  implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger(SchedulerService.name);
  private readonly leadership: Leadership;
  /** Window → id of its run going on in this process. */
  private readonly running = new Map<SyncWindow, number>();
  /** Window → when its running run started and last finished a product-date, and what is left. */
  private readonly progress = new Map<
    SyncWindow,
    { runId: number; startedAt: number; lastProgressAt: number; pending: number }
  >();
  private readonly runs = new Set<Promise<void>>();
  /** Set once the process is stopping: why runs cut short from then on are interrupted. */
  private stopReason: string | null = null;
  private unsubscribeRecovery: (() => void) | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly registry: SchedulerRegistry,
    private readonly sync: SyncService,
    private readonly control: SyncControlService,
    private readonly metrics: MetricsService,
    private readonly outage: DatabaseOutage,
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
    await this.upsertProducts();
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
    if (this.isLeader()) await this.closeInterruptedRuns();
    if (this.config.sync.onBoot) this.catchUp();
    // What the outage kept from syncing is caught up at once, not at the windows' next ticks.
    this.unsubscribeRecovery = this.outage.onRecovered(() => {
      if (this.stopReason === null) this.catchUp();
    });
  }

  /**
   * The process is stopping (the shutdown coordinator calls this before it drains the limiter):
   * no tick starts a run any more, and a run that does not complete from here on was cut short by
   * the shutdown, so it is recorded as interrupted (row and metric), `reason` first in its error.
   */
  stop(reason = 'the service is shutting down'): void {
    this.stopReason ??= reason;
  }

  /**
   * Nest destroys modules (PrismaService closes its pool) before the limiter drains, so ticks stop
   * first: no new run may start against a closing database. Runs still going when the process
   * ends are closed as interrupted by the shutdown coordinator or else by the next leader.
   */
  onModuleDestroy(): void {
    this.stop();
    this.unsubscribeRecovery?.();
    for (const window of SYNC_WINDOWS) {
      const name = `${JOB_PREFIX}${window}`;
      if (this.registry.doesExist('cron', name)) this.registry.deleteCronJob(name);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Runs end quickly once the limiter drains (its jobs fail as not started).
    await Promise.race([
      Promise.allSettled([...this.runs]),
      new Promise((r) => setTimeout(r, this.config.shutdownTimeoutMs).unref()),
    ]);
  }

  /** Next firing of a window's cron job, or null when not scheduled (e.g. shutting down). */
  nextRunAt(window: SyncWindow): Date | null {
    const name = `${JOB_PREFIX}${window}`;
    if (!this.registry.doesExist('cron', name)) return null;
    return this.registry.getCronJob(name).nextDate().toJSDate();
  }

  isRunning(window: SyncWindow): boolean {
    return this.running.has(window);
  }

  /** Progress of the window's run going on in this process, or null when none is. */
  runProgress(window: SyncWindow, now: number = Date.now()): RunProgress | null {
    const p = this.progress.get(window);
    if (!p) return null;
    return {
      runId: p.runId,
      startedAt: new Date(p.startedAt).toISOString(),
      lastProgressAt: new Date(p.lastProgressAt).toISOString(),
      pending: p.pending,
      stalled: isRunStalled(now, p.lastProgressAt, p.pending, this.config.sync.stallAfterMs),
    };
  }

  /**
   * Boot catch-up: every window syncs its product-dates whose data is older than its interval,
   * so a fresh install has data within minutes. Launched together; the limiter's priorities
   * put today first.
   */
  catchUp(): void {
    if (!this.isLeader() || this.control.isPaused()) {
      this.logger.log({
        msg: 'boot catch-up skipped',
        leader: this.isLeader(),
        paused: this.control.isPaused(),
      });
      return;
    }
    for (const window of SYNC_WINDOWS) {
      void this.runWindow(window, { trigger: 'boot', staleOnly: true }).catch((err: unknown) => {
        if (this.outage.report('catch-up', err)) return;
        this.logger.error({ msg: 'boot catch-up failed', window, error: (err as Error).message });
      });
    }
  }

  /** One cron tick of `window` for the occurrence at `scheduledFor`. */
  async tick(window: SyncWindow, scheduledFor: Date): Promise<void> {
    if (this.stopReason !== null || !this.isLeader()) return;
    try {
      if (this.control.isPaused()) {
        await this.recordSkipped(window, scheduledFor, 'sync is paused');
        return;
      }
      const runningId = this.running.get(window);
      if (runningId !== undefined) {
        const progress = this.runProgress(window);
        if (progress?.stalled) {
          // Not one more info line per tick: a run that stopped moving needs an operator.
          this.logger.warn({
            msg: 'sync run made no progress; tick skipped',
            runId: runningId,
            window,
            lastProgressAt: progress.lastProgressAt,
            pending: progress.pending,
          });
        }
        await this.recordSkipped(
          window,
          scheduledFor,
          `previous run ${runningId} is still going${progress?.stalled ? ` (no progress since ${progress.lastProgressAt})` : ''}`,
          progress?.stalled ? 'debug' : 'log',
        );
        return;
      }
      await this.runWindow(window, { trigger: 'schedule', scheduledFor });
    } catch (err) {
      if (this.outage.report('window tick', err)) return;
      this.logger.error({ msg: 'window tick failed', window, error: (err as Error).message });
    }
  }

  /** Manual trigger: starts a run (or returns the window's run already going) and its id. */
  async runNow(
    window: SyncWindow,
    productIds?: number[],
  ): Promise<{ runId: number; alreadyRunning: boolean }> {
    if (!SYNC_WINDOWS.includes(window)) throw new UnknownWindowError(window);
    if (!this.isLeader()) {
      throw new NotSyncLeaderError(this.instanceId, this.leadership.currentLeader()?.id ?? null);
    }
    const started = await this.runWindow(window, { trigger: 'manual', productIds });
    // Only scheduled occurrences can be taken by another instance; a manual run always starts.
    if (!started) throw new Error(`manual run of ${window} was not started`);
    return { runId: started.runId, alreadyRunning: started.alreadyRunning };
  }

  /**
   * Starts a run of `window` and returns its id once recorded; the syncs continue in the
   * background (`done`). Returns null for a scheduled occurrence another instance already ran,
   * and for a catch-up with nothing stale (no run is recorded).
   */
  async runWindow(window: SyncWindow, options: RunOptions): Promise<StartedRun | null> {
    const productIds = this.productsFor(options.productIds);
    if (options.trigger === 'manual' && this.control.isPaused()) {
      throw new SyncPausedError('Sync is paused; resume it before triggering a run');
    }
    const runningId = this.running.get(window);
    if (runningId !== undefined) {
      if (options.trigger === 'manual') {
        return { runId: runningId, alreadyRunning: true, done: Promise.resolve() };
      }
      return null;
    }
    const scheduledFor = options.scheduledFor ?? new Date();
    const now = new Date();
    let plan = planWindow(window, productIds, now, this.config.sync.timeZone);
    if (options.staleOnly) plan = await this.staleOnly(window, plan, now);
    if (options.staleOnly && plan.length === 0) {
      // Nothing stale: an empty "ok 0/0" run would hide the window's last real run.
      this.logger.log({ msg: 'boot catch-up: nothing stale', window });
      return null;
    }

    let runId: number;
    try {
      const run = await this.prisma.syncRun.create({
        data: {
          window,
          trigger: options.trigger,
          scheduledFor,
          outcome: 'running',
          planned: plan.length,
          instanceId: this.instanceId,
          occurrence: options.trigger === 'schedule' ? occurrenceKey(window, scheduledFor) : null,
        },
      });
      runId = run.id;
    } catch (err) {
      if (isDuplicateOccurrence(err)) {
        this.logger.log({ msg: 'window occurrence already run elsewhere', window, scheduledFor });
        return null;
      }
      throw err;
    }
    this.running.set(window, runId);
    const startedMs = Date.now();
    this.progress.set(window, {
      runId,
      startedAt: startedMs,
      lastProgressAt: startedMs,
      pending: plan.length,
    });
    this.logger.log({
      msg: 'sync run started',
      runId,
      window,
      trigger: options.trigger,
      planned: plan.length,
    });
    // Windows firing at the same instant share product-dates synced since that instant.
    const shareSince = options.trigger === 'schedule' ? scheduledFor : undefined;
    const done = this.execute(runId, window, plan, startedMs, shareSince).finally(() => {
      this.running.delete(window);
      this.progress.delete(window);
      this.runs.delete(done);
    });
    this.runs.add(done);
    return { runId, alreadyRunning: false, done };
  }

  private async execute(
    runId: number,
    window: SyncWindow,
    plan: PlannedSync[],
    startedMs: number,
    shareSince: Date | undefined,
  ): Promise<void> {
    const progress = this.progress.get(window);
    const results = await Promise.all(
      plan.map((p) =>
        this.sync.syncProductDate(p.productId, p.date, p.priority, { shareSince }).finally(() => {
          if (progress) {
            progress.lastProgressAt = Date.now();
            progress.pending--;
          }
        }),
      ),
    );
    const counts = tally(results);
    const complete = counts.failed === 0 && counts.skipped === 0;
    // Read after the syncs ended: a run the shutdown cut short is interrupted, not partial/failed.
    const interruptedBy = complete ? null : this.stopReason;
    const outcome = complete
      ? 'ok'
      : interruptedBy !== null
        ? 'interrupted'
        : counts.succeeded > 0
          ? 'partial'
          : counts.failed > 0
            ? 'failed'
            : 'skipped';
    const firstError = results.find((r) => r.error !== null && r.outcome !== 'skipped')?.error;
    const detail =
      counts.skipped > 0
        ? `${counts.skipped} not attempted (paused or shutting down)${firstError ? `; ${firstError}` : ''}`
        : (firstError ?? null);
    const error =
      interruptedBy !== null ? `${interruptedBy}${detail ? `; ${detail}` : ''}` : detail;
    try {
      // outcome 'running': at its deadline the shutdown coordinator records a run still going
      // (row and metric); ending later, this run must not record itself a second time.
      const { count } = await this.prisma.syncRun.updateMany({
        where: { id: runId, outcome: 'running' },
        data: {
          finishedAt: new Date(),
          outcome,
          succeeded: counts.succeeded,
          failed: counts.failed,
          changed: counts.changed,
          deduplicated: counts.deduplicated,
          error: error?.slice(0, 2000) ?? null,
        },
      });
      if (count === 0) {
        this.logger.warn({ msg: 'sync run ended after it was closed', runId, window, outcome });
        return;
      }
    } catch (err) {
      if (!this.outage.report('run record', err)) {
        this.logger.error({
          msg: 'could not record run end',
          runId,
          error: (err as Error).message,
        });
      }
    }
    const durationMs = Date.now() - startedMs;
    this.metrics.recordSyncRun(window, outcome, durationMs / 1000);
    if (outcome === 'interrupted') {
      this.logger.warn({
        msg: 'sync run interrupted',
        runId,
        window,
        durationMs,
        ...counts,
        error,
      });
    } else {
      this.logger.log({ msg: 'sync run finished', runId, window, outcome, durationMs, ...counts });
    }
  }

  private async recordSkipped(
    window: SyncWindow,
    scheduledFor: Date,
    reason: string,
    level: 'log' | 'debug' = 'log',
  ): Promise<void> {
    const now = new Date();
    try {
      await this.prisma.syncRun.create({
        data: {
          window,
          trigger: 'schedule',
          scheduledFor,
          startedAt: now,
          finishedAt: now,
          outcome: 'skipped',
          error: reason,
          instanceId: this.instanceId,
          occurrence: occurrenceKey(window, scheduledFor),
        },
      });
    } catch (err) {
      if (!isDuplicateOccurrence(err)) throw err;
      return;
    }
    this.metrics.recordSyncRun(window, 'skipped', 0);
    this.logger[level]({ msg: 'sync run skipped', window, reason });
  }

  private productsFor(requested?: number[]): number[] {
    const configured = this.config.sync.productIds;
    if (!requested || requested.length === 0) return configured;
    const unknown = requested.filter((id) => !configured.includes(id));
    if (unknown.length > 0) throw new UnknownProductError(unknown, configured);
    return [...new Set(requested)];
  }

  private async staleOnly(
    window: SyncWindow,
    plan: PlannedSync[],
    now: Date,
  ): Promise<PlannedSync[]> {
    if (plan.length === 0) return plan;
    const interval = cronIntervalMs(
      cronOf(window, this.config.sync.cron),
      this.config.sync.timeZone,
      now,
    );
    const dates = [...new Set(plan.map((p) => p.date))];
    const rows = await this.prisma.productDateSync.findMany({
      where: {
        productId: { in: [...new Set(plan.map((p) => p.productId))] },
        date: { in: dates.map(toDbDate) },
        lastSuccessAt: { gte: new Date(now.getTime() - interval) },
      },
      select: { productId: true, date: true },
    });
    const fresh = new Set(rows.map((r) => `${r.productId}:${r.date.toISOString().slice(0, 10)}`));
    return plan.filter((p) => !fresh.has(`${p.productId}:${p.date}`));
  }

  private async upsertProducts(): Promise<void> {
    for (const id of this.config.sync.productIds) {
      await this.prisma.product.upsert({
        where: { id },
        create: { id, enabled: true },
        update: { enabled: true },
      });
    }
  }

  /**
   * Runs left "running" by a previous leader that died (SIGKILL, crash) are closed as
   * interrupted; their product-dates are picked up again by the boot catch-up. Also called by
   * the cluster when this instance takes over from a dead leader.
   */
  async closeInterruptedRuns(): Promise<void> {
    try {
      // Only the leader runs windows, so a "running" run not of this process has lost its runner.
      const { count } = await this.prisma.syncRun.updateMany({
        where: { outcome: 'running', id: { notIn: [...this.running.values()] } },
        data: {
          outcome: 'interrupted',
          finishedAt: new Date(),
          error: 'the instance running it stopped',
        },
      });
      if (count > 0)
        this.logger.warn({ msg: 'closed runs of a stopped instance', interrupted: count });
    } catch (err) {
      if (this.outage.report('run record', err)) return;
      this.logger.error({ msg: 'could not close interrupted runs', error: (err as Error).message });
    }
  }
}

function tally(results: SyncResult[]): {
  succeeded: number;
  failed: number;
  changed: number;
  deduplicated: number;
  skipped: number;
} {
  const counts = { succeeded: 0, failed: 0, changed: 0, deduplicated: 0, skipped: 0 };
  for (const r of results) {
    if (r.deduplicated) counts.deduplicated++;
    if (r.outcome === 'changed') counts.changed++;
    if (r.outcome === 'changed' || r.outcome === 'unchanged') counts.succeeded++;
    else if (r.outcome === 'failed') counts.failed++;
    else counts.skipped++;
  }
  return counts;
}
