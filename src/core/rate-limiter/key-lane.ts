import type { Logger } from '@nestjs/common';
import Bottleneck from 'bottleneck';
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import { CallWindow } from './call-window';
import {
  CallVerdict,
  HandedBackError,
  KeyRejectedVerdict,
  LimiterShutdownError,
  RateLimitedVerdict,
  TransientVerdict,
} from './rate-limiter.errors';
import type { RateLimiterOptions } from './rate-limiter.options';
import { MAX_HOLD_WINDOWS, holdAfterRateLimit, minTimeMs } from './rate-limiter.policy';
import type {
  BreakerState,
  JobPriority,
  KeyState,
  LimiterHold,
  LimiterKeyState,
  LimiterObserver,
  PartnerKey,
  StartGuard,
} from './rate-limiter.types';

/** What a lane needs from the pool it belongs to. */
export interface LanePool {
  /** True once the pool drains: nothing more starts, no timer acts. */
  stopped(): boolean;
  guards(): readonly StartGuard[];
  observers(): Iterable<LimiterObserver>;
  /** The limiter's logger: a key's lines stay where operators and alerts look for the budget. */
  readonly logger: Logger;
  /** Whether any key of the pool (this one included) is in rotation now. */
  anyInRotation(now: number): boolean;
}

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
 * One key's lane: its Bottleneck (the pace), cockatiel breaker, hold and rejection.
 *
 * What Bottleneck cannot do stays here, small: a 429 holds only this key until the partner's reset
 * (reservoir 0, then back) and lowers its pace to the share the partner accepted for one window;
 * after any hold, rejection or open breaker the key takes one call at a time until one succeeds
 * (maxConcurrent 1); a 401/403 takes the key out of rotation until a probe. There are no retries
 * here: a failed call returns its error, and the due list's backoff retries it through the budget.
 */
export class KeyLane {
  private readonly bottleneck: Bottleneck;
  private readonly breaker: CircuitBreakerPolicy;
  private breakerOpenUntil = 0;
  private readonly jobs = new Set<Job>();
  private running = 0;
  private readonly window: CallWindow;
  /** One call at a time until a call succeeds (at boot, after a hold, a rejection, a breaker). */
  private slowStart = true;
  private heldUntilMs = 0;
  private holdInfo: Omit<LimiterHold, 'until'> | null = null;
  private consecutiveRateLimits = 0;
  private rejectedUntil = 0;
  private rejectedStatus: 401 | 403 | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly key: PartnerKey,
    private readonly options: RateLimiterOptions,
    private readonly pool: LanePool,
  ) {
    this.window = new CallWindow(options.limit, options.windowMs, options.marginMs);
    this.bottleneck = new Bottleneck({
      maxConcurrent: 1, // slow start; raised by the first success
      minTime: minTimeMs(options.windowMs, options.marginMs, options.limit),
    });
    this.bottleneck.on('error', (err: unknown) => {
      this.pool.logger.error({
        msg: 'limiter error',
        key: key.label,
        error: (err as Error).message,
      });
    });
    this.breaker = circuitBreaker(
      handleWhen((err) => err instanceof TransientVerdict),
      {
        halfOpenAfter: options.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(options.breakerThreshold),
      },
    );
    this.breaker.onBreak(() => {
      this.breakerOpenUntil = Date.now() + this.options.breakerHalfOpenAfterMs;
      this.startSlow();
      this.pool.logger.warn({
        msg: 'partner circuit breaker opened',
        key: key.label,
        fingerprint: key.fingerprint,
        retryAt: new Date(this.breakerOpenUntil).toISOString(),
      });
      this.handBackQueued(() => new HandedBackError('breaker_open', key.label));
      this.at(this.breakerOpenUntil, () => this.keysChanged());
      this.keysChanged();
    });
    this.breaker.onReset(() => {
      this.breakerOpenUntil = 0;
      this.pool.logger.log({ msg: 'partner circuit breaker closed', key: key.label });
      this.keysChanged();
    });
  }

  // ---- state ----------------------------------------------------------------------------------

  state(now: number): KeyState {
    if (this.rejectedUntil > now) return 'rejected';
    if (this.heldUntilMs > now) return 'held';
    if (this.breaker.state === CircuitState.Open && now < this.breakerOpenUntil) {
      return 'breaker_open';
    }
    return this.slowStart || this.breaker.state !== CircuitState.Closed ? 'probing' : 'active';
  }

  inRotation(now: number): boolean {
    const state = this.state(now);
    return state === 'active' || state === 'probing';
  }

  /** When the current or last hold ends (0 when the key was never held). */
  get heldUntil(): number {
    return this.heldUntilMs;
  }

  concurrency(): number {
    return this.slowStart ? 1 : this.options.maxConcurrency;
  }

  /** Jobs taken and not settled: waiting for a turn, or running. */
  pending(): number {
    return this.jobs.size;
  }

  queued(): number {
    let n = 0;
    for (const job of this.jobs) if (job.phase === 'queued') n++;
    return n;
  }

  currentHold(now: number): LimiterHold | null {
    if (this.heldUntilMs <= now || !this.holdInfo) return null;
    return { ...this.holdInfo, until: new Date(this.heldUntilMs).toISOString() };
  }

  snapshot(now: number): LimiterKeyState {
    const hold = this.currentHold(now);
    const breaker = this.breakerState(now);
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
      breaker,
      breakerRetryAt:
        breaker === 'open' && this.breakerOpenUntil > 0
          ? new Date(this.breakerOpenUntil).toISOString()
          : null,
      rejectedStatus: this.rejectedStatus,
    };
  }

  private breakerState(now: number): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return now >= this.breakerOpenUntil ? 'half-open' : 'open';
    }
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

  /** Runs inside the key's Bottleneck, when the pace gives the job its turn. */
  private async execute(job: Job): Promise<unknown> {
    if (job.phase === 'done') return undefined; // handed back while it waited
    job.phase = 'started';
    this.refuseIfUnavailable();
    for (const guard of this.pool.guards()) await guard(this.key);
    if (this.pool.stopped()) throw new LimiterShutdownError();
    // A 429 or a rejection may have come while the guards ran: nothing was sent yet.
    this.refuseIfUnavailable();

    await this.window.room();
    if (this.pool.stopped()) throw new LimiterShutdownError();
    this.refuseIfUnavailable();

    let sent = false;
    let startedAt = 0;
    const stamp = { at: 0 };
    try {
      const value = await this.breaker.execute(() => {
        sent = true;
        startedAt = performance.now();
        this.running++;
        this.window.stamp(stamp);
        return job.run(this.key);
      });
      this.window.stamp(stamp);
      this.running--;
      this.emitCall('ok', startedAt);
      this.onSuccess();
      return value;
    } catch (err) {
      if (!sent) {
        if (!(err instanceof BrokenCircuitError)) throw err;
        for (const o of this.pool.observers()) o.partnerCall?.(this.key, 'breaker_open');
        throw new HandedBackError('breaker_open', this.key.label);
      }
      this.window.stamp(stamp);
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

  private onSuccess(): void {
    this.consecutiveRateLimits = 0;
    if (this.rejectedStatus !== null) {
      this.pool.logger.log({
        msg: 'partner accepts the API key again',
        key: this.key.label,
        fingerprint: this.key.fingerprint,
      });
      this.rejectedStatus = null;
    }
    if (this.slowStart) {
      this.slowStart = false;
      void this.bottleneck.updateSettings({ maxConcurrent: this.options.maxConcurrency });
      this.keysChanged();
    }
  }

  /** Classifies a failed call; returns what the caller receives. */
  private onFailure(err: unknown, startedAt: number): unknown {
    if (!(err instanceof CallVerdict)) return err;
    this.emitCall(err.outcome, startedAt);
    if (err instanceof RateLimitedVerdict) {
      this.hold(err.waitUntil);
      return new HandedBackError('rate_limited', this.key.label);
    }
    if (err instanceof KeyRejectedVerdict) {
      this.reject(err.status);
      // With another key in rotation the product-date just takes its next turn there.
      return this.pool.anyInRotation(Date.now())
        ? new HandedBackError('key_rejected', this.key.label)
        : err.cause;
    }
    return err.cause;
  }

  // ---- hold, rejection, release ---------------------------------------------------------------

  /**
   * A 429 means this key is spent for everyone: hold it until the partner's reset (reservoir 0),
   * allow it for one window after that only the share the partner accepted from us, and restart
   * it one call at a time. Its waiting jobs go to the other keys when one is in rotation.
   */
  private hold(waitUntil: number | null): void {
    const now = Date.now();
    const { windowMs, marginMs } = this.options;
    this.consecutiveRateLimits++;
    const hold = holdAfterRateLimit(now, waitUntil, windowMs, marginMs, this.consecutiveRateLimits);
    const share = this.window.rateLimited(now);
    const alreadyHeld = this.heldUntilMs > now;
    if (hold.until > this.heldUntilMs) {
      this.heldUntilMs = hold.until;
      this.holdInfo = {
        reason: 'rate_limited',
        since: new Date(now).toISOString(),
        hintedUntil: hold.hintedUntil !== null ? new Date(hold.hintedUntil).toISOString() : null,
        capped: hold.capped,
      };
    }
    this.clearTimers();
    this.slowStart = true;
    // Not a longer minTime for the share: Bottleneck would keep the waits it already committed to
    // after the share is over. The share is a sliding count (CallWindow.room) at the usual pace.
    void this.bottleneck.updateSettings({ reservoir: 0, maxConcurrent: 1 });
    this.at(this.heldUntilMs, () => {
      void this.bottleneck.updateSettings({ reservoir: null });
      this.keysChanged();
    });
    // The foreign consumer may still be there: its share for one window, then the whole budget.
    this.at(this.heldUntilMs + windowMs + marginMs, () => this.window.restore());
    if (hold.capped) {
      this.pool.logger.warn({
        msg: `partner rate-limit hint is more than ${MAX_HOLD_WINDOWS} windows ahead; hold capped`,
        key: this.key.label,
        hintedUntil: new Date(hold.hintedUntil ?? hold.until).toISOString(),
        heldUntil: new Date(this.heldUntilMs).toISOString(),
      });
    }
    if (!alreadyHeld) {
      this.pool.logger.warn({
        msg: 'partner rate limit hit; holding the key',
        key: this.key.label,
        heldUntil: new Date(this.heldUntilMs).toISOString(),
        share,
      });
    }
    if (this.pool.anyInRotation(now)) {
      this.handBackQueued(() => new HandedBackError('rate_limited', this.key.label));
    }
    this.keysChanged();
  }

  /** A 401/403: the key leaves the rotation until a probe, logged once (name and fingerprint only). */
  private reject(status: 401 | 403): void {
    const now = Date.now();
    const wasRejected = this.rejectedStatus !== null;
    this.rejectedStatus = status;
    this.rejectedUntil = now + this.options.rejectedProbeAfterMs;
    this.startSlow();
    if (!wasRejected) {
      this.pool.logger.error({
        msg: 'partner rejected an API key; it leaves the rotation',
        key: this.key.label,
        fingerprint: this.key.fingerprint,
        status,
        probeAt: new Date(this.rejectedUntil).toISOString(),
      });
    }
    this.handBackQueued(() => new HandedBackError('key_rejected', this.key.label));
    this.at(this.rejectedUntil, () => this.keysChanged());
    this.keysChanged();
  }

  /**
   * An operator's word that the key is usable again: drops its hold, lowered pace and rejection.
   * The slow start stays, so a key that is still spent or refused costs one call, not a burst.
   * Returns the hold that was cleared, or null. The pool tells its observers.
   */
  release(by: string, now: number): LimiterHold | null {
    const hold = this.currentHold(now);
    const rejected = this.rejectedUntil > now;
    if (!hold && !rejected && !this.window.shared()) return hold;
    this.clearTimers();
    this.heldUntilMs = 0;
    this.holdInfo = null;
    this.rejectedUntil = 0;
    this.window.restore();
    this.slowStart = true;
    void this.bottleneck.updateSettings({ reservoir: null, maxConcurrent: 1 });
    if (hold || rejected) {
      this.pool.logger.warn({
        msg: 'partner key released by an operator',
        by,
        key: this.key.label,
        fingerprint: this.key.fingerprint,
        heldUntil: hold?.until ?? null,
        rejectedStatus: rejected ? this.rejectedStatus : null,
      });
    }
    return hold;
  }

  /** Drops the waiting jobs (rejected with a BottleneckError) and resolves once none runs. */
  stop(): Promise<void> {
    this.clearTimers();
    return this.bottleneck.stop({ dropWaitingJobs: true });
  }

  // ---- helpers --------------------------------------------------------------------------------

  private startSlow(): void {
    this.slowStart = true;
    void this.bottleneck.updateSettings({ maxConcurrent: 1 });
  }

  private emitCall(outcome: string, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    for (const o of this.pool.observers()) o.partnerCall?.(this.key, outcome, seconds);
  }

  private keysChanged(): void {
    for (const o of this.pool.observers()) o.keysChanged?.();
  }

  private at(when: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.pool.stopped()) fn();
      },
      Math.max(1, when - Date.now()),
    );
    timer.unref();
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
