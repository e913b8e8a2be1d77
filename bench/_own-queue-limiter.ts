/**
 * Baseline for bench/partner-budget: the service's own limiter before it moved onto Bottleneck
 * (commit a77ff81, src/core/rate-limiter.service.ts and its policy), kept as it was so the bench
 * can run it side by side with the Bottleneck-paced RateLimiterService. Only its imports changed
 * (the policy, types and errors it used are inlined) and it counts calls through a small
 * interface. Not used by the service.
 */
import { Logger } from '@nestjs/common';
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { AppConfig } from '../src/config/app-config';
import { DomainError, NotAttemptedError } from '../src/common/domain-error';
import {
  PartnerError,
  PartnerRateLimitedError,
  PartnerUnauthorizedError,
} from '../src/partner/partner-errors';

type PartnerCallOutcome = string;

/** What the old limiter reported to metrics. */
export interface CallCounter {
  recordPartnerCall(outcome: PartnerCallOutcome, durationSeconds?: number): void;
}

class PartnerBreakerOpenError extends DomainError {
  readonly outcome = 'breaker_open' as const;
  readonly httpStatus = 503;
  constructor(readonly retryAt: Date | null) {
    super('Partner circuit breaker is open after repeated failures');
  }
}

class LimiterShutdownError extends NotAttemptedError {
  readonly httpStatus = 503;
  constructor() {
    super('Partner call queue is shutting down; the job was not started');
  }
}

class LimiterGaveUpError extends DomainError {
  readonly httpStatus = 503;
  constructor(
    readonly key: string,
    readonly rateLimitedTimes: number,
  ) {
    super(`Gave up on ${key} after ${rateLimitedTimes} rate-limited attempts`);
  }
}

type JobPriority = 'today' | 'week' | 'later';
const JOB_PRIORITIES: readonly JobPriority[] = ['today', 'week', 'later'];
interface LimiterJob<T> {
  key: string;
  priority: JobPriority;
  run: () => Promise<T>;
}
type BreakerState = 'closed' | 'open' | 'half-open';
interface LimiterHold {
  reason: 'rate_limited' | 'unauthorized';
  since: string;
  until: string;
  hintedUntil: string | null;
  capped: boolean;
}
interface LimiterStateDetail {
  limit: number;
  windowMs: number;
  spentInWindow: number;
  queued: Record<JobPriority, number>;
  running: number;
  pausedUntil: string | null;
  breaker: BreakerState;
  effectiveLimit?: number;
  breakerRetryAt?: string | null;
  hold?: LimiterHold | null;
}

/**
 * Extra length added to our own sliding window (1% of the window, 25..500 ms).
 */
export function jitterMarginMs(windowMs: number): number {
  return Math.min(500, Math.max(25, Math.round(windowMs * 0.01)));
}

/** Starts in `starts` (ascending ms) that fall within the `lengthMs` ending at `now`. */
export function startsWithin(starts: readonly number[], now: number, lengthMs: number): number {
  let n = 0;
  for (let i = starts.length - 1; i >= 0 && starts[i] > now - lengthMs; i--) n++;
  return n;
}

/**
 * When the next start is allowed: now if fewer than `limit` starts are in the window, else the
 * moment the oldest start that blocks leaves it.
 */
export function nextStartAt(
  starts: readonly number[],
  now: number,
  lengthMs: number,
  limit: number,
): number {
  const inWindow = startsWithin(starts, now, lengthMs);
  if (inWindow < limit) return now;
  // The (inWindow - limit + 1) oldest in-window starts must leave; the last of them decides.
  const first = starts.length - inWindow;
  return starts[first + inWindow - limit] + lengthMs;
}

/** Exponential backoff with full jitter between half and all of the step: base·2^(attempt-1). */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/**
 * After a 429 the key is shared with someone we cannot see: allow ourselves what the partner
 * actually accepted from us in the window (our starts minus our rejected ones), never less than 1.
 */
export function limitAfterRateLimit(
  ownStartsInWindow: number,
  ownRejectedInWindow: number,
): number {
  return Math.max(1, ownStartsInWindow - ownRejectedInWindow);
}

/**
 * The self-imposed limit `sinceMs` after the last 429: the share learned from it for one window,
 * then the whole budget again. A foreign burst that has ended costs us at most that one window
 * (the partner's sliding window has forgotten it by then); a steady foreign consumer costs about
 * one 429 per window, each of them a single call thanks to the slow start that follows a 429.
 * Time-based, so idle time counts as recovery.
 */
export function limitSinceRateLimit(
  limit: number,
  share: number,
  sinceMs: number,
  windowMs: number,
): number {
  return sinceMs < windowMs ? Math.max(1, Math.min(limit, share)) : limit;
}

/** A rate-limit hint further ahead than this many windows is capped to it. */
export const MAX_HOLD_WINDOWS = 2;

export interface RateLimitHold {
  /** Epoch ms until which the whole queue waits. */
  until: number;
  /** Epoch ms the partner's hints asked for (plus the margin), or null without a hint. */
  hintedUntil: number | null;
  /** True when the hint was more than MAX_HOLD_WINDOWS windows ahead and the hold was cut. */
  capped: boolean;
}

/**
 * How long the whole queue waits after a 429: the latest hint plus the margin, but never more
 * than MAX_HOLD_WINDOWS windows (the partner's window is sliding, so a later "reset" is a bug or
 * a misread unit; obeying it stalled every product for up to a day). Without a hint 1 s, 2 s,
 * 4 s… up to one window, by the number of 429s in a row.
 */
export function holdAfterRateLimit(
  now: number,
  hintedAt: number | null,
  windowMs: number,
  marginMs: number,
  consecutive: number,
): RateLimitHold {
  if (hintedAt === null) {
    const backoff = Math.min(windowMs, 1000 * 2 ** Math.min(10, Math.max(0, consecutive - 1)));
    return { until: now + backoff, hintedUntil: null, capped: false };
  }
  const hintedUntil = hintedAt + marginMs;
  const cap = now + MAX_HOLD_WINDOWS * windowMs;
  return hintedUntil > cap
    ? { until: cap, hintedUntil, capped: true }
    : { until: hintedUntil, hintedUntil, capped: false };
}

/** Tuning of the limiter; everything not given comes from AppConfig or the defaults below. */
export interface RateLimiterOptions {
  limit: number;
  windowMs: number;
  maxConcurrency: number;
  /** Added to our window to absorb network jitter (see jitterMarginMs). */
  marginMs: number;
  /** Attempts for 5xx/timeout/network failures, the first one included. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive failures (5xx, timeout, network) that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before one probe call. */
  breakerHalfOpenAfterMs: number;
  /** How long the whole queue waits after a 401/403 before the key is tried again. */
  unauthorizedHoldMs: number;
  /** A job rate-limited this many times in a row is given up (the hold still applies to the rest). */
  maxRateLimitedRequeues: number;
  shutdownTimeoutMs: number;
  random: () => number;
}

/**
 * Defaults for the real partner (30 calls/min, ≈0.5 calls/s): 5 consecutive failures are ~10 s
 * of a dead partner at that rate; a 30 s cool-down costs at most one probe call per 30 s.
 */
export function rateLimiterOptions(
  config: AppConfig,
  overrides: Partial<RateLimiterOptions> = {},
): RateLimiterOptions {
  const windowMs = overrides.windowMs ?? config.partner.rateWindowMs;
  return {
    limit: config.partner.rateLimit,
    windowMs,
    maxConcurrency: config.partner.maxConcurrency,
    marginMs: jitterMarginMs(windowMs),
    maxAttempts: 3,
    retryBaseMs: 1000,
    retryMaxMs: 30_000,
    breakerThreshold: 5,
    breakerHalfOpenAfterMs: 30_000,
    unauthorizedHoldMs: Math.max(windowMs, 60_000),
    maxRateLimitedRequeues: 20,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    random: Math.random,
    ...overrides,
  };
}

type StartGuard = () => void | Promise<void>;

interface Entry {
  key: string;
  priority: JobPriority;
  run: () => Promise<unknown>;
  /** Order of first arrival: a job given back to the queue keeps its place. */
  seq: number;
  attempts: number;
  rateLimited: number;
  notBefore: number;
  state: 'queued' | 'running';
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

const RANK: Record<JobPriority, number> = { today: 0, week: 1, later: 2 };

/**
 * The only door to the partner's request budget. One in-process queue: priorities, dedupe by key,
 * a sliding-window start limit (with a jitter margin), a whole-queue hold after 429 with the
 * rejected job put back in place, bounded retries that go through the queue again, a cockatiel
 * circuit breaker, start guards (pause, leader fencing) and a clean drain on shutdown.
 *
 * Why not Bottleneck's own queue: its reservoir refills in fixed windows (not sliding), its
 * failed→retry path skips the reservoir, a queued job's priority cannot be raised, and it has no
 * whole-queue hold. This queue is small and does exactly what the partner's budget needs.
 */
export class OwnQueueLimiter {
  private readonly logger = new Logger(OwnQueueLimiter.name);
  readonly options: RateLimiterOptions;
  private readonly queues: Record<JobPriority, Entry[]> = { today: [], week: [], later: [] };
  private readonly byKey = new Map<string, Entry>();
  /** Start times of our attempts (ascending); a reserved start is updated when really sent. */
  private starts: number[] = [];
  private readonly guards: StartGuard[] = [];
  private readonly breaker: CircuitBreakerPolicy;
  private breakerOpenUntil = 0;
  private running = 0;
  private seq = 0;
  private pausedUntil = 0;
  /** Why the queue is held until pausedUntil (status, logs); null when not held. */
  private holdInfo: Omit<LimiterHold, 'until'> | null = null;
  private consecutiveRateLimits = 0;
  /** What the partner accepted from us in the window before the last 429 (see limitSinceRateLimit). */
  private share: number;
  private lastRateLimitAt = -Infinity;
  /** When our rejected (429) attempts were answered, to tell accepted starts from rejected ones. */
  private rejections: number[] = [];
  private unauthorizedLogged = false;
  private probing = true;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    config: AppConfig,
    private readonly metrics: CallCounter,
    overrides?: Partial<RateLimiterOptions>,
  ) {
    this.options = rateLimiterOptions(config, overrides);
    this.share = this.options.limit;
    this.breaker = circuitBreaker(
      handleWhen((err) => err instanceof PartnerError && err.retryable),
      {
        halfOpenAfter: this.options.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.options.breakerThreshold),
      },
    );
    this.breaker.onBreak(() => {
      this.breakerOpenUntil = Date.now() + this.options.breakerHalfOpenAfterMs;
      this.logger.warn({
        msg: 'partner circuit breaker opened',
        retryAt: new Date(this.breakerOpenUntil).toISOString(),
        queued: this.queuedCount(),
      });
    });
    this.breaker.onReset(() => {
      this.breakerOpenUntil = 0;
      this.logger.log({ msg: 'partner circuit breaker closed' });
      this.pump();
    });
  }

  /**
   * Queues one partner call. A job whose key is already queued or running is not queued again:
   * the caller gets the same promise (and a higher priority promotes the waiting job).
   */
  schedule<T>(job: LimiterJob<T>): Promise<T> {
    const existing = this.byKey.get(job.key);
    if (existing) {
      if (existing.state === 'queued' && RANK[job.priority] < RANK[existing.priority]) {
        this.remove(existing);
        existing.priority = job.priority;
        this.insert(existing);
        this.pump();
      }
      return existing.promise as Promise<T>;
    }
    if (this.stopped) return Promise.reject(new LimiterShutdownError());
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry = {
      key: job.key,
      priority: job.priority,
      run: job.run,
      seq: this.seq++,
      attempts: 0,
      rateLimited: 0,
      notBefore: 0,
      state: 'queued',
      promise,
      resolve,
      reject,
    };
    this.byKey.set(entry.key, entry);
    this.insert(entry);
    this.pump();
    return promise as Promise<T>;
  }

  /** Awaited before every attempt; a guard that throws rejects that job with its error, spending nothing. */
  addStartGuard(guard: StartGuard): void {
    this.guards.push(guard);
  }

  /** Rejects every queued (not yet running) job with `reason`; returns how many. */
  clearQueued(reason: Error): number {
    let n = 0;
    for (const p of JOB_PRIORITIES) {
      const entries = this.queues[p];
      this.queues[p] = [];
      for (const e of entries) {
        this.byKey.delete(e.key);
        e.reject(reason);
        n++;
      }
    }
    this.notifyIdle();
    return n;
  }

  state(): LimiterStateDetail {
    const now = Date.now();
    return {
      limit: this.options.limit,
      windowMs: this.options.windowMs,
      spentInWindow: startsWithin(this.starts, now, this.options.windowMs),
      queued: {
        today: this.queues.today.length,
        week: this.queues.week.length,
        later: this.queues.later.length,
      },
      running: this.running,
      pausedUntil: this.pausedUntil > now ? new Date(this.pausedUntil).toISOString() : null,
      breaker: this.breakerState(),
      effectiveLimit: this.currentLimit(now),
      hold: this.currentHold(now),
      breakerRetryAt:
        this.breakerOpenUntil > 0 ? new Date(this.breakerOpenUntil).toISOString() : null,
    };
  }

  /**
   * An operator's word that the key is usable again (sync resume): drops the hold and the lowered
   * share at once. The slow start stays, so a key that is still spent costs one 429, not a burst.
   * Returns the hold that was cleared, or null when nothing was held.
   */
  clearHold(by: string): LimiterHold | null {
    const now = Date.now();
    const cleared = this.currentHold(now);
    const lowered = this.currentLimit(now) < this.options.limit;
    if (!cleared && !lowered) return null;
    this.pausedUntil = 0;
    this.holdInfo = null;
    this.share = this.options.limit;
    this.lastRateLimitAt = -Infinity;
    this.probing = true;
    this.clearTimer();
    this.logger.warn({
      msg: 'partner hold cleared by an operator',
      by,
      heldUntil: cleared?.until ?? null,
      reason: cleared?.reason ?? null,
    });
    this.pump();
    return cleared;
  }

  /**
   * Stops starting jobs, rejects the queued ones with LimiterShutdownError and waits up to
   * `timeoutMs` for running ones to finish (their results still reach their callers).
   * Returns true when nothing was left running.
   */
  async drain(timeoutMs: number = this.options.shutdownTimeoutMs): Promise<boolean> {
    this.stopped = true;
    this.clearTimer();
    const rejected = this.clearQueued(new LimiterShutdownError());
    if (rejected > 0 || this.running > 0) {
      this.logger.log({ msg: 'draining partner queue', rejected, running: this.running });
    }
    if (this.running === 0) return true;
    let timeout: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.add(() => resolve(true))),
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timeout);
    if (!idle) {
      this.logger.warn({ msg: 'partner calls still running at shutdown', running: this.running });
    }
    return idle;
  }

  // ---- queue ----------------------------------------------------------------------------------

  private insert(entry: Entry): void {
    entry.state = 'queued';
    const q = this.queues[entry.priority];
    let i = q.length;
    while (i > 0 && q[i - 1].seq > entry.seq) i--;
    q.splice(i, 0, entry);
  }

  private remove(entry: Entry): void {
    const q = this.queues[entry.priority];
    const i = q.indexOf(entry);
    if (i >= 0) q.splice(i, 1);
  }

  private queuedCount(): number {
    return this.queues.today.length + this.queues.week.length + this.queues.later.length;
  }

  /** The first job by priority then arrival whose retry delay has passed, and the earliest delay. */
  private nextEligible(now: number): { entry: Entry | null; wakeAt: number } {
    let wakeAt = Infinity;
    for (const p of JOB_PRIORITIES) {
      for (const e of this.queues[p]) {
        if (e.notBefore <= now) return { entry: e, wakeAt };
        wakeAt = Math.min(wakeAt, e.notBefore);
      }
    }
    return { entry: null, wakeAt };
  }

  private breakerState(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return Date.now() >= this.breakerOpenUntil ? 'half-open' : 'open';
    }
  }

  /** Starts every job that may start now, and arms one timer for the next moment one could. */
  private pump(): void {
    if (this.stopped) return;
    for (;;) {
      // Slow start: one call at a time until one succeeds (at boot and after a 429), so a key
      // spent by someone else costs one 429, not one per concurrent call; the same for calls
      // beyond the share a recent 429 taught us, in case that foreign consumer is still there.
      const now = Date.now();
      const single = this.probing || this.beyondRecentShare(now);
      if (this.running >= (single ? 1 : this.options.maxConcurrency)) return;
      if (this.pausedUntil > now) return this.wakeAt(this.pausedUntil);
      const { entry, wakeAt } = this.nextEligible(now);
      if (!entry) {
        if (wakeAt !== Infinity) this.wakeAt(wakeAt);
        return;
      }
      const breaker = this.breaker.state;
      if (breaker === CircuitState.Open && now < this.breakerOpenUntil) {
        // Fail fast without spending budget while the partner is considered down.
        this.remove(entry);
        this.settle(entry, 'reject', new PartnerBreakerOpenError(new Date(this.breakerOpenUntil)));
        this.metrics.recordPartnerCall('breaker_open');
        continue;
      }
      // One probe at a time while half-open; the rest wait for its verdict.
      if (breaker === CircuitState.HalfOpen) return;
      if (breaker === CircuitState.Open && this.running > 0) return;
      const lengthMs = this.options.windowMs + this.options.marginMs;
      const startAt = nextStartAt(this.starts, now, lengthMs, this.currentLimit(now));
      if (startAt > now) {
        // The limit itself may rise before a start leaves the window.
        const raise = this.lastRateLimitAt + lengthMs;
        return this.wakeAt(raise > now ? Math.min(startAt, raise) : startAt);
      }
      this.remove(entry);
      entry.state = 'running';
      this.running++;
      // Reserve the start now so the next loop turn sees it; released if nothing is sent.
      const reservation = { at: now };
      this.starts.push(now);
      void this.attempt(entry, reservation);
    }
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.pump();
      },
      Math.max(1, at - Date.now()),
    );
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private currentLimit(now: number): number {
    return limitSinceRateLimit(
      this.options.limit,
      this.share,
      now - this.lastRateLimitAt,
      this.options.windowMs + this.options.marginMs,
    );
  }

  private beyondRecentShare(now: number): boolean {
    const lengthMs = this.options.windowMs + this.options.marginMs;
    return (
      now - this.lastRateLimitAt < 3 * lengthMs &&
      startsWithin(this.starts, now, lengthMs) >= this.share
    );
  }

  private currentHold(now: number): LimiterHold | null {
    if (this.pausedUntil <= now || !this.holdInfo) return null;
    return { ...this.holdInfo, until: new Date(this.pausedUntil).toISOString() };
  }

  private release(reservation: { at: number }): void {
    const i = this.starts.lastIndexOf(reservation.at);
    if (i >= 0) this.starts.splice(i, 1);
  }

  /**
   * Moves a start to now: when really sent, and again when the answer came back. The partner
   * counted the request somewhere between the two, so the answer time can only make our window
   * stricter than the partner's, whatever the request's delay on the way.
   */
  private restamp(reservation: { at: number }): void {
    this.release(reservation);
    reservation.at = Date.now();
    let i = this.starts.length;
    while (i > 0 && this.starts[i - 1] > reservation.at) i--;
    this.starts.splice(i, 0, reservation.at);
    const horizon = reservation.at - 2 * (this.options.windowMs + this.options.marginMs);
    while (this.starts.length > 0 && this.starts[0] < horizon) this.starts.shift();
  }

  // ---- one attempt ----------------------------------------------------------------------------

  private async attempt(entry: Entry, reservation: { at: number }): Promise<void> {
    try {
      for (const guard of this.guards) await guard();
    } catch (err) {
      this.release(reservation);
      this.running--;
      this.settle(entry, 'reject', err);
      return this.pump();
    }
    if (this.stopped || this.pausedUntil > Date.now()) {
      // A 429 or shutdown arrived while the guards ran: nothing was sent, give the job back.
      this.release(reservation);
      this.running--;
      if (this.stopped) this.settle(entry, 'reject', new LimiterShutdownError());
      else this.insert(entry);
      return this.pump();
    }

    let sent = false;
    let startedAt = 0;
    try {
      const value = await this.breaker.execute(() => {
        sent = true;
        this.restamp(reservation);
        startedAt = performance.now();
        entry.attempts++;
        return entry.run();
      });
      this.restamp(reservation);
      this.record('ok', startedAt);
      this.probing = false;
      this.consecutiveRateLimits = 0;
      this.unauthorizedLogged = false;
      this.running--;
      this.settle(entry, 'resolve', value);
    } catch (err) {
      this.running--;
      if (!sent) {
        this.release(reservation);
        this.metrics.recordPartnerCall('breaker_open');
        this.settle(entry, 'reject', this.breakerOpenError(err));
      } else {
        const sentAt = reservation.at;
        this.restamp(reservation);
        this.afterFailure(entry, err, sentAt, startedAt);
      }
    }
    this.notifyIdle();
    this.pump();
  }

  private breakerOpenError(err: unknown): unknown {
    return err instanceof BrokenCircuitError
      ? new PartnerBreakerOpenError(
          this.breakerOpenUntil > 0 ? new Date(this.breakerOpenUntil) : null,
        )
      : err;
  }

  private afterFailure(entry: Entry, err: unknown, sentAt: number, startedAt: number): void {
    if (!(err instanceof PartnerError)) {
      this.settle(entry, 'reject', err);
      return;
    }
    this.record(err.outcome, startedAt);

    if (err instanceof PartnerRateLimitedError) {
      this.onRateLimited(err, sentAt);
      entry.rateLimited++;
      if (entry.rateLimited >= this.options.maxRateLimitedRequeues) {
        this.settle(entry, 'reject', new LimiterGaveUpError(entry.key, entry.rateLimited));
      } else {
        entry.attempts--; // a 429 is the budget's fault, not the job's: it keeps all its retries
        this.requeue(entry);
      }
      return;
    }
    if (err instanceof PartnerUnauthorizedError) {
      this.hold(Date.now() + this.options.unauthorizedHoldMs, 'unauthorized', null, false);
      if (!this.unauthorizedLogged) {
        this.unauthorizedLogged = true;
        this.logger.error({
          msg: 'partner rejected the API key; holding partner calls',
          status: err.status,
          retryAt: new Date(this.pausedUntil).toISOString(),
        });
      }
      this.settle(entry, 'reject', err);
      return;
    }
    if (err.retryable && entry.attempts < this.options.maxAttempts) {
      const delay = retryDelayMs(
        entry.attempts,
        this.options.retryBaseMs,
        this.options.retryMaxMs,
        this.options.random,
      );
      entry.notBefore = Date.now() + delay;
      this.logger.warn({
        msg: 'partner call failed; retrying through the queue',
        key: entry.key,
        attempt: entry.attempts,
        outcome: err.outcome,
        retryInMs: delay,
      });
      this.requeue(entry);
      return;
    }
    this.settle(entry, 'reject', err);
  }

  /** Gives a job back to the queue in its old place, unless the limiter is stopping. */
  private requeue(entry: Entry): void {
    if (this.stopped) this.settle(entry, 'reject', new LimiterShutdownError());
    else this.insert(entry);
  }

  /** A 429 means the key is spent for everyone: hold the whole queue and lower our own share. */
  private onRateLimited(err: PartnerRateLimitedError, sentAt: number): void {
    const now = Date.now();
    const alreadyHeld = this.pausedUntil > sentAt;
    this.consecutiveRateLimits++;
    const hold = holdAfterRateLimit(
      now,
      err.waitUntil(now),
      this.options.windowMs,
      this.options.marginMs,
      this.consecutiveRateLimits,
    );
    this.hold(hold.until, 'rate_limited', hold.hintedUntil, hold.capped);
    this.probing = true;
    const lengthMs = this.options.windowMs + this.options.marginMs;
    this.rejections = this.rejections.filter((t) => t > now - lengthMs);
    this.rejections.push(now);
    const ours = startsWithin(this.starts, now, lengthMs);
    this.share = limitAfterRateLimit(ours, startsWithin(this.rejections, now, lengthMs));
    this.lastRateLimitAt = now;
    if (hold.capped) {
      this.logger.warn({
        msg: `partner rate-limit hint is more than ${MAX_HOLD_WINDOWS} windows ahead; hold capped`,
        hintedUntil: new Date(hold.hintedUntil ?? hold.until).toISOString(),
        pausedUntil: new Date(this.pausedUntil).toISOString(),
      });
    }
    if (!alreadyHeld) {
      this.logger.warn({
        msg: 'partner rate limit hit; holding the whole queue',
        pausedUntil: new Date(this.pausedUntil).toISOString(),
        effectiveLimit: this.currentLimit(now),
        queued: this.queuedCount() + 1,
      });
    }
  }

  private hold(
    until: number,
    reason: LimiterHold['reason'],
    hintedUntil: number | null,
    capped: boolean,
  ): void {
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.holdInfo = {
      reason,
      since: new Date().toISOString(),
      hintedUntil: hintedUntil !== null ? new Date(hintedUntil).toISOString() : null,
      capped,
    };
  }

  private record(outcome: PartnerCallOutcome, startedAt: number): void {
    this.metrics.recordPartnerCall(outcome, (performance.now() - startedAt) / 1000);
  }

  private settle(entry: Entry, how: 'resolve' | 'reject', value: unknown): void {
    this.byKey.delete(entry.key);
    if (how === 'resolve') entry.resolve(value);
    else entry.reject(value);
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.running > 0 || this.idleWaiters.size === 0) return;
    for (const w of this.idleWaiters) w();
    this.idleWaiters.clear();
  }
}
