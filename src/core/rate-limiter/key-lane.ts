import Bottleneck from 'bottleneck';
import { BrokenCircuitError } from 'cockatiel';
import { CallWindow } from './call-window';
import { KeyStatus, type LanePool } from './key-status';
import {
  CallVerdict,
  HandedBackError,
  KeyRejectedVerdict,
  LimiterShutdownError,
  RateLimitedVerdict,
} from './rate-limiter.errors';
import type { RateLimiterOptions } from './rate-limiter.options';
import { minTimeMs } from './rate-limiter.policy';
import type {
  JobPriority,
  KeyState,
  LimiterHold,
  LimiterKeyState,
  PartnerKey,
} from './rate-limiter.types';

/** Bottleneck's priorities: 0 first, 9 last. */
const BOTTLENECK_PRIORITY: Record<JobPriority, number> = { today: 1, week: 3, later: 5 };

interface Job {
  run: (key: PartnerKey) => Promise<unknown>;
  /** queued: waiting in the key's Bottleneck; started: guards or the call running; done: settled. */
  phase: 'queued' | 'started' | 'done';
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * One key's lane: its Bottleneck (the pace and the calls in flight), its own call window, and its
 * status (hold, share, slow start, rejection, breaker: KeyStatus). There are no retries here: a
 * failed call returns its error, and the due list's backoff retries it through the budget.
 */
export class KeyLane {
  private readonly bottleneck: Bottleneck;
  private readonly window: CallWindow;
  private readonly status: KeyStatus;
  private readonly jobs = new Set<Job>();
  private running = 0;

  constructor(
    readonly key: PartnerKey,
    private readonly options: RateLimiterOptions,
    private readonly pool: LanePool,
  ) {
    const minTime = minTimeMs(options.windowMs, options.marginMs, options.limit);
    // Half the pace: a late send does not push the next one back (no drift), two never leave
    // together.
    this.window = new CallWindow(
      options.limit,
      options.windowMs,
      options.marginMs,
      Math.floor(minTime / 2),
      minTime,
    );
    this.bottleneck = new Bottleneck({
      maxConcurrent: 1, // slow start; raised by the first success
      minTime,
    });
    this.bottleneck.on('error', (err: unknown) => {
      this.pool.logger.error({
        msg: 'limiter error',
        key: key.label,
        error: (err as Error).message,
      });
    });
    this.status = new KeyStatus(key, options, pool, this.window, {
      updateSettings: (settings) => void this.bottleneck.updateSettings(settings),
      handBackQueued: (reason) => this.handBackQueued(reason),
    });
  }

  // ---- state ----------------------------------------------------------------------------------

  state(now: number): KeyState {
    return this.status.state(now);
  }

  inRotation(now: number): boolean {
    const state = this.state(now);
    return state === 'active' || state === 'probing';
  }

  /** When the current or last hold ends (0 when the key was never held). */
  get heldUntil(): number {
    return this.status.heldUntil;
  }

  concurrency(): number {
    return this.status.concurrency();
  }

  /**
   * Sends `share` of the key's window still leaves room for: the share of its allowance (its
   * limit, or its share after a 429) less the calls sent in the window and the jobs taken and
   * not sent yet.
   */
  spareRoom(share: number, now: number): number {
    const room = Math.floor(share * this.window.allowance() + 1e-9);
    return Math.max(0, room - this.window.spent(now) - (this.jobs.size - this.running));
  }

  /** Jobs taken and not settled: waiting for a turn, or running. */
  pending(): number {
    return this.jobs.size;
  }

  /** Calls sent and not yet answered. */
  inFlight(): number {
    return this.running;
  }

  queued(): number {
    let n = 0;
    for (const job of this.jobs) if (job.phase === 'queued') n++;
    return n;
  }

  snapshot(now: number): LimiterKeyState {
    const hold = this.status.currentHold(now);
    return {
      name: this.key.label,
      fingerprint: this.key.fingerprint,
      state: this.state(now),
      limit: this.options.limit,
      windowMs: this.options.windowMs,
      spentInWindow: this.window.spent(now),
      running: this.running,
      heldUntil: hold?.until ?? null,
      hold,
      breaker: this.status.breakerState(now),
      breakerRetryAt: this.status.breakerRetryAt(now),
      rejectedStatus: this.status.rejectedStatus,
    };
  }

  /** See KeyStatus.release. */
  release(by: string, now: number): LimiterHold | null {
    return this.status.release(by, now);
  }

  // ---- jobs -----------------------------------------------------------------------------------

  /** Queues `run` in this key's Bottleneck; it runs when the pace gives it a turn. */
  schedule<T>(run: (key: PartnerKey) => Promise<T>, priority: JobPriority): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = { run, phase: 'queued', resolve: resolve as (v: unknown) => void, reject };
      this.jobs.add(job);
      this.bottleneck
        .schedule({ priority: BOTTLENECK_PRIORITY[priority] }, () => this.execute(job))
        .then(
          (value) => this.settle(job, 'resolve', value),
          (err: unknown) =>
            this.settle(
              job,
              'reject',
              err instanceof Bottleneck.BottleneckError ? new LimiterShutdownError() : err,
            ),
        );
    });
  }

  /** Rejects the key's waiting jobs (they stay due); Bottleneck later skips them at their turn. */
  handBackQueued(reason: () => Error): number {
    let n = 0;
    for (const job of [...this.jobs]) {
      if (job.phase !== 'queued') continue;
      this.settle(job, 'reject', reason());
      n++;
    }
    return n;
  }

  /** Drops the waiting jobs (rejected with a BottleneckError) and resolves once none runs. */
  stop(): Promise<void> {
    this.status.clearTimers();
    return this.bottleneck.stop({ dropWaitingJobs: true });
  }

  /** Runs inside the key's Bottleneck, when the pace gives the job its turn. */
  private async execute(job: Job): Promise<unknown> {
    if (job.phase === 'done') return undefined; // handed back while it waited
    job.phase = 'started';
    this.refuseIfUnavailable();
    for (const guard of this.pool.guards()) await guard(this.key);
    if (this.pool.stopped()) throw new LimiterShutdownError();
    // A 429 or a rejection may have come while the guards ran: nothing was sent yet.
    this.refuseIfUnavailable();

    const stamp = { at: 0 };
    await this.window.room(stamp);
    try {
      if (this.pool.stopped()) throw new LimiterShutdownError();
      this.refuseIfUnavailable();
    } catch (err) {
      this.window.unstamp(stamp);
      throw err;
    }

    let sent = false;
    let startedAt = 0;
    let ended = (): void => undefined;
    try {
      const value = await this.status.breaker.execute(() => {
        sent = true;
        startedAt = performance.now();
        this.running++;
        this.window.stamp(stamp);
        ended = this.status.sent();
        return job.run(this.key);
      });
      ended();
      this.window.answered(stamp);
      this.running--;
      this.emitCall('ok', startedAt);
      this.status.accepted();
      return value;
    } catch (err) {
      if (!sent) {
        this.window.unstamp(stamp);
        if (!(err instanceof BrokenCircuitError)) throw err;
        for (const o of this.pool.observers()) o.partnerCall?.(this.key, 'breaker_open');
        throw new HandedBackError('breaker_open', this.key.label);
      }
      ended();
      this.window.answered(stamp);
      this.running--;
      throw this.onFailure(err, startedAt);
    }
  }

  private refuseIfUnavailable(): void {
    const state = this.state(Date.now());
    if (state === 'held') throw new HandedBackError('rate_limited', this.key.label);
    if (state === 'rejected') throw new HandedBackError('key_rejected', this.key.label);
  }

  private settle(job: Job, how: 'resolve' | 'reject', value: unknown): void {
    if (job.phase === 'done') return;
    job.phase = 'done';
    this.jobs.delete(job);
    if (how === 'resolve') job.resolve(value);
    else job.reject(value);
  }

  /** Classifies a failed call; returns what the caller receives. */
  private onFailure(err: unknown, startedAt: number): unknown {
    if (!(err instanceof CallVerdict)) return err;
    this.emitCall(err.outcome, startedAt);
    if (err instanceof RateLimitedVerdict) {
      this.status.rateLimited(err.waitUntil);
      return new HandedBackError('rate_limited', this.key.label);
    }
    if (err instanceof KeyRejectedVerdict) {
      this.status.refused(err.status);
      // With another key in rotation the product-date just takes its next turn there.
      return this.pool.anyInRotation(Date.now())
        ? new HandedBackError('key_rejected', this.key.label)
        : err.cause;
    }
    return err.cause;
  }

  private emitCall(outcome: string, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    for (const o of this.pool.observers()) o.partnerCall?.(this.key, outcome, seconds);
  }
}
