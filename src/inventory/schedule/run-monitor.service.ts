import { Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DatabaseOutage } from '../../core/database/database-outage';
import { SyncRunsService, type OpenRun } from '../runs/sync-runs.service';
import type { SyncWindow } from '../sync-window';
import { InjectLeadership, type Leadership } from './leadership';
import { isRunStalled, type RunProgress } from './run-progress';

/** How often the leader recounts the runs going on (their progress comes from the due list). */
export const RUN_REFRESH_MS = 1000;

/**
 * Watches the runs going on, on the sync leader: every second it counts them from the due list
 * (so their progress shows while they run, and they finish once their marks are cleared), keeps
 * the oldest one per window for status and metrics, and warns once when one stops moving.
 */
@Injectable()
export class RunMonitorService {
  private readonly logger = new Logger(RunMonitorService.name);
  /** The oldest run going on per window, as last counted from the due list. */
  private going = new Map<SyncWindow, OpenRun>();
  /** Runs already reported as stalled (one warning each, not one per count). */
  private readonly warnedStalled = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly runs: SyncRunsService,
    private readonly outage: DatabaseOutage,
    @InjectLeadership() private readonly leadership: Leadership,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.refresh(), RUN_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Resolves when a count in progress has ended (the database is about to close). */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  /** A run this instance just started: known to be going until the next count says otherwise. */
  noteStarted(run: OpenRun): void {
    if (!this.going.has(run.window)) this.going.set(run.window, run);
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
      stalled: this.isStalled(run, now),
    };
  }

  private isStalled(run: OpenRun, now: number): boolean {
    return isRunStalled(
      now,
      run.lastProgressAt.getTime(),
      run.remaining,
      this.config.sync.stallAfterMs,
    );
  }

  private async refresh(): Promise<void> {
    if (this.refreshing || this.stopped || !this.leadership.isLeader()) return;
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
      if (!this.isStalled(run, now) || this.warnedStalled.has(run.runId)) continue;
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
}
