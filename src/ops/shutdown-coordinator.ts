import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Server } from 'node:http';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { PrismaService } from '../core/prisma.service';
import { RateLimiterService } from '../core/rate-limiter.service';
import { SchedulerService } from '../inventory/schedule/scheduler.service';
import type { SyncWindow } from '../inventory/sync-window';
import { MetricsService } from './metrics.service';
import { ReadinessService } from './readiness.service';

export interface ShutdownReport {
  signal: string;
  /** False when in-flight partner work was still running at the deadline and was abandoned. */
  drained: boolean;
  interruptedRuns: number;
  durationMs: number;
}

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
 * in flight finish and commit (at most SHUTDOWN_TIMEOUT_MS). The sync engine records the runs
 * this cuts short as interrupted; runs still going at the deadline are recorded so here. Work
 * still running at the deadline dies with the process; its store transaction never commits, so
 * the previous data stays.
 */
@Injectable()
export class ShutdownCoordinator {
  private readonly logger = new Logger(ShutdownCoordinator.name);
  private started: Promise<ShutdownReport> | null = null;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: SchedulerRegistry,
    private readonly scheduler: SchedulerService,
    private readonly limiter: RateLimiterService,
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
    this.stopSchedules(signal);
    const instanceId = this.scheduler.instanceId;
    const runsAtStart = await this.runningRunIds(instanceId);

    const result = await within(
      this.limiter.drain(this.config.shutdownTimeoutMs).catch((err: unknown) => {
        this.logger.warn({ msg: 'limiter drain failed', error: (err as Error).message });
      }),
      deadline - Date.now(),
    );
    const drained = result.done && result.value !== false;
    // Requests already being served get the rest of the time.
    await within(httpClosed, deadline - Date.now());
    const interruptedRuns = await this.closeRunsLeftRunning(
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

  private stopSchedules(signal: string): void {
    const registry = this.registry;
    for (const [name, job] of registry.getCronJobs()) {
      void Promise.resolve(job.stop()).catch(() => undefined);
      this.logger.debug({ msg: 'cron stopped', name });
    }
    for (const name of registry.getIntervals()) registry.deleteInterval(name);
    for (const name of registry.getTimeouts()) registry.deleteTimeout(name);
    // From here on the runs the drain cuts short are recorded by the engine as interrupted.
    this.scheduler.stop(`stopped by ${signal} before the run finished`);
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
   * The sync engine records the runs the drain cut short (row and metric) when they end; a run
   * still going at the deadline cannot end before the process does, so it is recorded here.
   * Returns how many of the runs going when the signal came ended interrupted.
   */
  private async closeRunsLeftRunning(
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
      // outcome = 'running' in the WHERE: a run the engine records meanwhile is left to it.
      const rows = await this.prisma.$queryRaw<Array<{ window: string; started_at: Date }>>`
        UPDATE sync_runs
           SET outcome = 'interrupted',
               finished_at = now(),
               error = ${`stopped by ${signal} before the run finished`}
         WHERE id = ANY(${runIds}::int[]) AND outcome = 'running'
        RETURNING "window", started_at`;
      for (const row of rows) {
        const seconds = Math.max(0, (Date.now() - row.started_at.getTime()) / 1000);
        this.metrics.recordSyncRun(row.window as SyncWindow, 'interrupted', seconds);
        this.logger.warn({ msg: 'sync run interrupted', window: row.window, instanceId, signal });
      }
      return await this.prisma.syncRun.count({
        where: { id: { in: runIds }, outcome: 'interrupted' },
      });
    } catch (err) {
      this.logger.warn({
        msg: 'could not mark interrupted sync runs',
        error: (err as Error).message,
      });
      return 0;
    }
  }
}
