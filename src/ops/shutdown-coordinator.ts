import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { Server } from 'node:http';
import os from 'node:os';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { PrismaService } from '../core/prisma.service';
import type { SyncWindow } from '../inventory/sync-window';
import { MetricsService } from './metrics.service';
import { OptionalServices, type Stoppable } from './optional-services';
import { ReadinessService } from './readiness.service';

export interface ShutdownReport {
  signal: string;
  /** False when in-flight partner work was still running at the deadline and was abandoned. */
  drained: boolean;
  interruptedRuns: number;
  durationMs: number;
}

// Services that own schedules or running work; each may expose stop() (nothing new starts after).
const STOPPABLE_SERVICES = ['SchedulerService', 'SyncService', 'SyncControlService'];

function within<T>(
  work: Promise<T>,
  ms: number,
): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), Math.max(0, ms));
  });
  return Promise.race([work.then((value) => ({ done: true as const, value })), timeout]).finally(
    () => clearTimeout(timer),
  );
}

/**
 * The first half of a graceful stop, run before Nest closes the modules (which closes the
 * database): stop accepting HTTP, stop the schedules, stop taking partner jobs and let the ones
 * in flight finish and commit (at most SHUTDOWN_TIMEOUT_MS), then record runs that could not
 * finish as interrupted. Work still running at the deadline dies with the process; its store
 * transaction never commits, so the previous data stays.
 */
@Injectable()
export class ShutdownCoordinator {
  private readonly logger = new Logger(ShutdownCoordinator.name);
  private started: Promise<ShutdownReport> | null = null;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly services: OptionalServices,
    private readonly prisma: PrismaService,
    private readonly readiness: ReadinessService,
    private readonly metrics: MetricsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  get isShuttingDown(): boolean {
    return this.started !== null;
  }

  /** Idempotent: a second call returns the first call's promise. */
  prepare(signal: string): Promise<ShutdownReport> {
    this.started ??= this.run(signal);
    return this.started;
  }

  private async run(signal: string): Promise<ShutdownReport> {
    const started = Date.now();
    const deadline = started + this.config.shutdownTimeoutMs;
    this.readiness.markShuttingDown();

    const httpClosed = this.stopAcceptingHttp();
    this.stopSchedules();
    const instanceId = this.instanceId();
    const runsAtStart = await this.runningRunIds(instanceId);

    let drained = true;
    const limiter = this.services.limiter();
    if (limiter?.drain) {
      const result = await within(
        limiter.drain(this.config.shutdownTimeoutMs).catch((err: unknown) => {
          this.logger.warn({ msg: 'limiter drain failed', error: (err as Error).message });
        }),
        deadline - Date.now(),
      );
      drained = result.done && result.value !== false;
    }
    // Requests already being served get the rest of the time.
    await within(httpClosed, deadline - Date.now());
    const interruptedRuns = await this.markRunsInterrupted(
      signal,
      instanceId,
      runsAtStart,
      deadline,
    );
    const report = { signal, drained, interruptedRuns, durationMs: Date.now() - started };
    if (drained) this.logger.log({ msg: 'in-flight work finished', ...report });
    else {
      this.logger.warn({
        msg: 'shutdown timeout reached: abandoning in-flight partner work (its data is not stored)',
        ...report,
      });
    }
    return report;
  }

  private stopAcceptingHttp(): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return Promise.resolve();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
    return closed;
  }

  private stopSchedules(): void {
    const registry = this.services.find<SchedulerRegistry>('SchedulerRegistry');
    if (registry) {
      for (const [name, job] of registry.getCronJobs()) {
        void Promise.resolve(job.stop()).catch(() => undefined);
        this.logger.debug({ msg: 'cron stopped', name });
      }
      for (const name of registry.getIntervals()) registry.deleteInterval(name);
      for (const name of registry.getTimeouts()) registry.deleteTimeout(name);
    }
    for (const name of STOPPABLE_SERVICES) {
      const service = this.services.find<Stoppable>(name);
      if (typeof service?.stop !== 'function') continue;
      try {
        void Promise.resolve(service.stop()).catch((err: unknown) =>
          this.logger.warn({ msg: 'stop failed', service: name, error: (err as Error).message }),
        );
      } catch (err) {
        this.logger.warn({ msg: 'stop failed', service: name, error: (err as Error).message });
      }
    }
  }

  /** This instance's id as the sync engine records it in sync_runs.instance_id. */
  private instanceId(): string {
    for (const name of ['SchedulerService', 'LeaderLeaseService']) {
      const id = this.services.find<{ instanceId?: unknown }>(name)?.instanceId;
      if (typeof id === 'string') return id;
    }
    return this.config.cluster.instanceId ?? `${os.hostname()}-${process.pid}`;
  }

  private async runningRunIds(instanceId: string): Promise<number[]> {
    try {
      const rows = await this.prisma.syncRun.findMany({
        where: { outcome: 'running', instanceId },
        select: { id: true },
      });
      return rows.map((r) => r.id);
    } catch (err) {
      this.logger.warn({ msg: 'could not list running sync runs', error: (err as Error).message });
      return [];
    }
  }

  /**
   * Runs that were going when the signal came and did not complete: once the drain made them
   * stop, the sync engine records them (as partial or failed, their items not attempted); give it
   * until the deadline, then record them as interrupted — still running ones included. A run that
   * completed in full during the drain keeps its ok.
   */
  private async markRunsInterrupted(
    signal: string,
    instanceId: string,
    runIds: number[],
    deadline: number,
  ): Promise<number> {
    if (runIds.length === 0) return 0;
    try {
      while (Date.now() < deadline) {
        const still = await this.prisma.syncRun.count({
          where: { id: { in: runIds }, outcome: 'running' },
        });
        if (still === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const rows = await this.prisma.$queryRaw<
        Array<{ window: string; started_at: Date; was_running: boolean }>
      >`
        UPDATE sync_runs r
           SET outcome = 'interrupted',
               finished_at = COALESCE(r.finished_at, now()),
               error = LEFT(${`stopped by ${signal} before the run finished`} ||
                       COALESCE('; ' || r.error, ''), 2000)
          FROM (SELECT id, outcome = 'running' AS was_running FROM sync_runs
                 WHERE id = ANY(${runIds}::int[]) FOR UPDATE) old
         WHERE r.id = old.id AND r.outcome <> 'ok'
        RETURNING r."window", r.started_at, old.was_running`;
      for (const row of rows) {
        // Runs the engine already recorded were counted by it; count only the ones it could not.
        if (row.was_running) {
          const seconds = Math.max(0, (Date.now() - row.started_at.getTime()) / 1000);
          this.metrics.recordSyncRun(row.window as SyncWindow, 'interrupted', seconds);
        }
        this.logger.warn({ msg: 'sync run interrupted', window: row.window, instanceId, signal });
      }
      return rows.length;
    } catch (err) {
      this.logger.warn({
        msg: 'could not mark interrupted sync runs',
        error: (err as Error).message,
      });
      return 0;
    }
  }
}
