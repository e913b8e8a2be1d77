import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { DatabaseOutageReporter } from '../common/database-unavailable';
import { readMigrations } from '../core/database/migrator';
import { SchedulerRegistry } from '@nestjs/schedule';
import { PrismaService } from '../core/prisma.service';
import { ReadCache } from '../inventory/read/read-cache';
import { SyncControlService } from '../inventory/control/sync-control.service';
import { SchedulerService } from '../inventory/schedule/scheduler.service';

/** SchedulerService names its cron jobs sync:<window>. */
const SYNC_JOB_PREFIX = 'sync:';

export interface HealthAnswer {
  httpStatus: 200 | 503;
  body: HealthCheckResult;
}

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Readiness: the checks a load balancer or orchestrator needs before sending traffic, each
 * reported by name (database, migrations, scheduler, redis when configured). Only what stops this
 * instance from serving fails it: Redis is an optional shared cache, so its loss shows as
 * `state: "degraded"` in the redis detail while readiness stays up.
 */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger(ReadinessService.name);
  private lastStatus: 'ok' | 'error' | undefined;
  private shuttingDown = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly scheduler: SchedulerService,
    private readonly control: SyncControlService,
    private readonly registry: SchedulerRegistry,
    @InjectConfig() private readonly config: AppConfig,
    private readonly outage: DatabaseOutageReporter,
    private readonly cache: ReadCache,
  ) {}

  /** Called by the shutdown coordinator: from then on readiness answers 503. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  live(): { status: 'ok'; uptimeSeconds: number } {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  async ready(): Promise<HealthAnswer> {
    const checks = [
      () => this.database(),
      () => this.migrations(),
      () => Promise.resolve(this.schedules()),
      ...(this.config.redisUrl ? [() => Promise.resolve(this.redisCheck())] : []),
      ...(this.shuttingDown ? [() => this.indicator.check('shutdown').down('shutting down')] : []),
    ];
    let answer: HealthAnswer;
    try {
      answer = { httpStatus: 200, body: await this.health.check(checks) };
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      answer = { httpStatus: 503, body: err.getResponse() as HealthCheckResult };
    }
    this.logTransition(answer.body);
    return answer;
  }

  private logTransition(body: HealthCheckResult): void {
    if (body.status === this.lastStatus) return;
    const first = this.lastStatus === undefined;
    this.lastStatus = body.status as 'ok' | 'error';
    if (body.status === 'ok') {
      if (!first) this.logger.log({ msg: 'ready again', checks: body.details });
    } else {
      this.logger.warn({ msg: 'not ready', failing: body.error });
    }
  }

  private async database(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('database');
    const started = Date.now();
    return (await this.prisma.ping(CHECK_TIMEOUT_MS))
      ? check.up({ kind: this.prisma.kind, durationMs: Date.now() - started })
      : check.down({ kind: this.prisma.kind, message: 'the database does not answer' });
  }

  private async migrations(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('migrations');
    try {
      const files = readMigrations().map((m) => m.name);
      const rows = await withTimeout(
        this.prisma.$queryRaw<Array<{ migration_name: string }>>`
          SELECT migration_name FROM "_prisma_migrations"
          WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
        CHECK_TIMEOUT_MS,
        'the database',
      );
      const applied = new Set(rows.map((r) => r.migration_name));
      const pending = files.filter((name) => !applied.has(name));
      return pending.length === 0
        ? check.up({ applied: files.length })
        : check.down({ message: 'migrations not applied', pending });
    } catch (err) {
      // Readiness is open to anyone: the error's text (hosts, ports, SQL) stays in the logs.
      if (!this.outage.report('readiness', err)) {
        this.logger.debug({ msg: 'migrations check failed', error: (err as Error).message });
      }
      return check.down({ message: 'the database does not answer' });
    }
  }

  /**
   * Up when the sync schedules are registered and ticking (on a follower they tick and stand by),
   * or when an operator paused syncing on purpose (a paused service still serves reads).
   */
  private schedules(): HealthIndicatorResult {
    const check = this.indicator.check('scheduler');
    const leader = this.scheduler.isLeader();
    const paused = this.control.isPaused();
    const jobs = [...this.registry.getCronJobs()].filter(([name]) =>
      name.startsWith(SYNC_JOB_PREFIX),
    );
    const stopped = jobs.filter(([, job]) => !job.isActive).map(([name]) => name);
    if (jobs.length > 0 && stopped.length === 0) {
      return check.up({ state: paused ? 'paused' : 'running', schedules: jobs.length, leader });
    }
    if (paused) return check.up({ state: 'paused', schedules: jobs.length, leader });
    return check.down({
      state: 'stopped',
      message: jobs.length === 0 ? 'no sync schedule is registered' : 'sync schedules stopped',
      stopped,
      leader,
    });
  }

  /**
   * The read cache's own view of Redis (its breaker and connection, refreshed by its calls and a
   * PING when idle): up, or degraded while reads skip it. Never down: reads do not need Redis.
   */
  private redisCheck(): HealthIndicatorResult {
    const check = this.indicator.check('redis');
    const shared = this.cache.health().shared;
    if (!shared || shared.state === 'up') return check.up({ state: 'up' });
    return check.up({
      state: 'degraded',
      message: 'redis does not answer; reads use the in-process cache and the database',
      connected: shared.connected,
      breaker: shared.breaker,
      degradedSince: shared.degradedSince,
      pendingInvalidations: shared.pendingInvalidations,
    });
  }
}
