import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Server } from 'node:http';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { RateLimiterService } from '../core/rate-limiter/rate-limiter.service';
import { SchedulerService } from '../inventory/schedule/scheduler.service';
import { ReadinessService } from './readiness.service';

export interface ShutdownReport {
  signal: string;
  /** False when in-flight partner work was still running at the deadline and was abandoned. */
  drained: boolean;
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
 * in flight finish and commit (at most SHUTDOWN_TIMEOUT_MS). What was not fetched stays in the
 * due list, and runs still going stay open: the next start (or leader) continues both. Work still
 * running at the deadline dies with the process; its store transaction never commits, so the
 * previous data stays, and the product-date stays due.
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
    private readonly readiness: ReadinessService,
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

    const result = await within(
      this.limiter.drain(this.config.shutdownTimeoutMs).catch((err: unknown) => {
        this.logger.warn({ msg: 'limiter drain failed', error: (err as Error).message });
      }),
      deadline - Date.now(),
    );
    const drained = result.done && result.value !== false;
    // Requests already being served get the rest of the time.
    await within(httpClosed, deadline - Date.now());
    const report = { signal, drained, durationMs: Date.now() - started };
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
    const registry = this.registry;
    for (const [name, job] of registry.getCronJobs()) {
      void Promise.resolve(job.stop()).catch(() => undefined);
      this.logger.debug({ msg: 'cron stopped', name });
    }
    for (const name of registry.getIntervals()) registry.deleteInterval(name);
    for (const name of registry.getTimeouts()) registry.deleteTimeout(name);
    // No more marks or dispatches; open runs stay open for the next leader to finish.
    this.scheduler.stop();
  }
}
