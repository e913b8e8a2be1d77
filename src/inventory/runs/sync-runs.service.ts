import { Injectable, Logger } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { runOutcome, type RunScope } from '../due/due-list';
import { DueListRepository } from '../due/due-list.repository';
import { InventoryEvents } from '../inventory-events';
import type { SyncWindow } from '../sync-window';

/** One sync_runs row as stored. */
export type SyncRunRow = Awaited<ReturnType<PrismaService['syncRun']['findMany']>>[number];

export type RunTrigger = 'schedule' | 'manual';

/** A run going on, as last counted from the due list. */
export interface OpenRun {
  runId: number;
  window: SyncWindow;
  startedAt: Date;
  /** When one of its product-dates was last attempted (its start until the first one is). */
  lastProgressAt: Date;
  remaining: number;
}

/** Unique-key violation: another instance already recorded this window occurrence. */
function isDuplicateOccurrence(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

function isRunScope(v: unknown): v is RunScope {
  const s = v as RunScope | null;
  return (
    !!s &&
    Array.isArray(s.productIds) &&
    s.productIds.every((id) => Number.isInteger(id)) &&
    typeof s.from === 'string' &&
    typeof s.to === 'string'
  );
}

/**
 * The life of a run, and the one place sync_runs is written: a run is recorded when its tick (or
 * manual trigger) marks its scope due, shows its progress (succeeded / failed / remaining) while
 * the dispatcher works through the due list, and is finished once none of its product-dates
 * waits for a first attempt since it began. Progress is read back from the due list, so a run
 * outlives the process that started it: after a restart or a failover the new leader goes on
 * counting it and finishes it.
 */
@Injectable()
export class SyncRunsService {
  private readonly logger = new Logger(SyncRunsService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly dueList: DueListRepository,
    private readonly events: InventoryEvents,
  ) {}

  /**
   * Records a run as running; null for a scheduled occurrence another instance already recorded
   * (the unique occurrence key), so one occurrence is one run cluster-wide.
   */
  async start(input: {
    window: SyncWindow;
    trigger: RunTrigger;
    scheduledFor: Date;
    scope: RunScope;
    occurrence: string | null;
    instanceId: string;
  }): Promise<number | null> {
    const planned =
      input.scope.productIds.length *
      (Math.round((Date.parse(input.scope.to) - Date.parse(input.scope.from)) / 86_400_000) + 1);
    try {
      const run = await this.prisma.syncRun.create({
        data: {
          window: input.window,
          trigger: input.trigger,
          scheduledFor: input.scheduledFor,
          outcome: 'running',
          planned,
          remaining: planned,
          scope: { ...input.scope },
          instanceId: input.instanceId,
          occurrence: input.occurrence,
        },
      });
      return run.id;
    } catch (err) {
      if (isDuplicateOccurrence(err)) return null;
      throw err;
    }
  }

  /** After the mark: how much of the scope was shared with work already due or just done. */
  async recordShared(runId: number, shared: number): Promise<void> {
    await this.prisma.syncRun.update({ where: { id: runId }, data: { deduplicated: shared } });
  }

  /** A run whose mark failed ends at once, failed, with the reason. */
  async fail(runId: number, window: SyncWindow, error: string): Promise<void> {
    await this.prisma.syncRun.updateMany({
      where: { id: runId, outcome: 'running' },
      data: { outcome: 'failed', finishedAt: new Date(), error: error.slice(0, 2000) },
    });
    this.finished(window, 'failed', 0);
  }

  /** A tick that did not mark anything (paused): one skipped row for its occurrence. */
  async recordSkipped(input: {
    window: SyncWindow;
    scheduledFor: Date;
    occurrence: string;
    reason: string;
    instanceId: string;
  }): Promise<boolean> {
    const now = new Date();
    try {
      await this.prisma.syncRun.create({
        data: {
          window: input.window,
          trigger: 'schedule',
          scheduledFor: input.scheduledFor,
          startedAt: now,
          finishedAt: now,
          outcome: 'skipped',
          error: input.reason,
          instanceId: input.instanceId,
          occurrence: input.occurrence,
        },
      });
    } catch (err) {
      if (isDuplicateOccurrence(err)) return false;
      throw err;
    }
    this.finished(input.window, 'skipped', 0);
    return true;
  }

  /**
   * Recounts every running run from the due list, writes its progress, and finishes the ones
   * with nothing left to attempt. Returns the runs still going, oldest first.
   */
  async refreshOpen(): Promise<OpenRun[]> {
    const open = await this.prisma.syncRun.findMany({
      where: { outcome: 'running' },
      orderBy: { id: 'asc' },
    });
    const going: OpenRun[] = [];
    for (const run of open) {
      const window = run.window as SyncWindow;
      if (!isRunScope(run.scope)) {
        // A run recorded before the due list existed: nothing can finish it any more.
        await this.prisma.syncRun.updateMany({
          where: { id: run.id, outcome: 'running' },
          data: {
            outcome: 'failed',
            finishedAt: new Date(),
            error: 'recorded by an older version without a scope; its work is in the due list',
          },
        });
        continue;
      }
      // The instant its marks count from (as the scheduler marked them: never in the future).
      const since = new Date(Math.min(run.scheduledFor.getTime(), run.startedAt.getTime()));
      const p = await this.dueList.progress(run.scope, since);
      const finished = p.remaining === 0;
      const outcome = finished ? runOutcome(p) : 'running';
      const { count } = await this.prisma.syncRun.updateMany({
        where: { id: run.id, outcome: 'running' },
        data: {
          succeeded: p.succeeded,
          failed: p.failed,
          remaining: p.remaining,
          changed: p.changed,
          ...(finished
            ? {
                outcome,
                finishedAt: new Date(),
                error: p.failed > 0 ? `${p.failed} product-dates failed; they stay due` : null,
              }
            : {}),
        },
      });
      if (!finished) {
        going.push({
          runId: run.id,
          window,
          startedAt: run.startedAt,
          lastProgressAt:
            p.lastAttemptAt && p.lastAttemptAt > run.startedAt ? p.lastAttemptAt : run.startedAt,
          remaining: p.remaining,
        });
        continue;
      }
      if (count === 0) continue;
      const seconds = Math.max(0, (Date.now() - run.startedAt.getTime()) / 1000);
      this.finished(window, outcome, seconds);
      this.logger.log({
        msg: 'sync run finished',
        runId: run.id,
        window,
        outcome,
        durationMs: Math.round(seconds * 1000),
        planned: run.planned,
        succeeded: p.succeeded,
        failed: p.failed,
        changed: p.changed,
        deduplicated: run.deduplicated,
      });
    }
    return going;
  }

  private finished(window: SyncWindow, outcome: string, durationSeconds: number): void {
    this.events.emitSyncRunFinished({ window, outcome, durationSeconds, finishedAt: new Date() });
  }

  /** The latest runs, newest first (status). */
  recent(limit: number): Promise<SyncRunRow[]> {
    return this.prisma.syncRun.findMany({ orderBy: { id: 'desc' }, take: limit });
  }

  /**
   * The latest run of each window, in the order given (null: never ran). `newest`, the latest
   * runs newest first (e.g. `recent`'s), answers the windows it holds without a query.
   */
  lastOf(
    windows: readonly SyncWindow[],
    newest: readonly SyncRunRow[] = [],
  ): Promise<(SyncRunRow | null)[]> {
    return Promise.all(
      windows.map(async (window) => {
        const known = newest.find((run) => run.window === window);
        return (
          known ?? this.prisma.syncRun.findFirst({ where: { window }, orderBy: { id: 'desc' } })
        );
      }),
    );
  }
}
