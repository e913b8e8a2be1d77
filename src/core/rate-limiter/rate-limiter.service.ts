import { BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import Bottleneck from 'bottleneck';
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { partnerKeys } from './partner-keys';
import {
  CallVerdict,
  HandedBackError,
  KeyRejectedVerdict,
  LimiterShutdownError,
  RateLimitedVerdict,
  TransientVerdict,
} from './rate-limiter.errors';
import {
  MAX_HOLD_WINDOWS,
  holdAfterRateLimit,
  jitterMarginMs,
  limitAfterRateLimit,
  minTimeMs,
  startsWithin,
} from './rate-limiter.policy';
import type {
  BreakerState,
  JobPriority,
  KeyState,
  LimiterHold,
  LimiterKeyState,
  LimiterObserver,
  LimiterState,
  PartnerKey,
  PartnerKeyName,
  StartGuard,
} from './rate-limiter.types';

/** Tuning of the limiter; everything not given comes from AppConfig or the defaults below. */
export interface RateLimiterOptions {
  /** Calls per window, per key. */
  limit: number;
  windowMs: number;
  /** Calls in flight at once, per key. */
  maxConcurrency: number;
  /** Added to the window the pace is computed for (see jitterMarginMs). */
  marginMs: number;
  /** Consecutive transient failures (5xx, timeout, network) that open a key's breaker. */
  breakerThreshold: number;
  /** How long a key's breaker stays open before one probe call. */
  breakerHalfOpenAfterMs: number;
  /** How long a key the partner refused (401/403) stays out of rotation before a probe call. */
  rejectedProbeAfterMs: number;
  shutdownTimeoutMs: number;
}

/** Lets tests and benchmarks tune the limiter (short windows, fast breaker) without new env vars. */
export const RATE_LIMITER_OPTIONS = Symbol('RATE_LIMITER_OPTIONS');

/**
 * Defaults for the real partner (30 calls/min per key, ≈0.5 calls/s): 5 consecutive failures are
 * ~10 s of a dead partner at that rate; a 30 s cool-down costs at most one probe call per 30 s.
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
    breakerThreshold: 5,
    breakerHalfOpenAfterMs: 30_000,
    rejectedProbeAfterMs: Math.max(windowMs, 60_000),
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ...overrides,
  };
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

/** One key: its Bottleneck (the pace), breaker, hold and rejection. */
interface Lane {
  key: PartnerKey;
  bottleneck: Bottleneck;
  breaker: CircuitBreakerPolicy;
  breakerOpenUntil: number;
  jobs: Set<Job>;
  running: number;
  /** When this key's calls were sent, and when its 429s came back (pruned to two windows). */
  starts: number[];
  rejections: number[];
  /** Starts allowed in the key's sliding window: its limit, or for a window after a 429 its share. */
  allowed: number;
  /** One call at a time until a call succeeds (at boot, after a hold, a rejection, a breaker). */
  slowStart: boolean;
  heldUntil: number;
  holdInfo: Omit<LimiterHold, 'until'> | null;
  consecutiveRateLimits: number;
  rejectedUntil: number;
  rejectedStatus: 401 | 403 | null;
  timers: Set<NodeJS.Timeout>;
}

/**
 * The only door to the partner's request budget: one Bottleneck limiter per API key paces that
 * key's calls (minTime = (window + margin) ÷ limit, so no sliding window ever holds more than the
 * limit) and bounds its calls in flight. The dispatcher asks `capacity()` and hands over at most
 * that many product-dates; `schedule` gives each to the usable key with the least work queued.
 *
 * What Bottleneck cannot do stays here, small: a 429 holds only its key until the partner's reset
 * (reservoir 0, then back) and lowers that key's pace to the share the partner accepted for one
 * window; after any hold, rejection or open breaker the key takes one call at a time until one
 * succeeds (maxConcurrent 1); a 401/403 takes the key out of rotation until a probe; a cockatiel
 * breaker per key. There are no retries here: a failed call returns its error, and the due list's
 * backoff retries it through the budget. Jobs the limiter could not run (429, rejected key,
 * shutdown) come back as NotAttemptedError subclasses: they stay due without a failure.
 */
@Injectable()
export class RateLimiterService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RateLimiterService.name);
  readonly options: RateLimiterOptions;
  private readonly lanes: Lane[];
  private readonly guards: StartGuard[] = [];
  private readonly observers = new Set<LimiterObserver>();
  private readonly baseMinTime: number;
  private stopped = false;

  constructor(
    @InjectConfig() config: AppConfig,
    @Optional() @Inject(RATE_LIMITER_OPTIONS) overrides?: Partial<RateLimiterOptions>,
  ) {
    this.options = rateLimiterOptions(config, overrides);
    this.baseMinTime = minTimeMs(this.options.windowMs, this.options.marginMs, this.options.limit);
    this.lanes = partnerKeys(config.partner.apiKeys).map((key) => this.lane(key));
  }

  /** The keys' names, in configured order. */
  keys(): PartnerKeyName[] {
    return this.lanes.map((l) => ({ label: l.key.label, fingerprint: l.key.fingerprint }));
  }

  /**
   * Runs `run` with a usable key when that key's pace gives a turn: the key with the least work
   * queued among those in rotation (keys are interchangeable). With no key in rotation the job
   * waits on the held key that is back first, or is handed back at once when none is held.
   */
  schedule<T>(
    run: (key: PartnerKey) => Promise<T>,
    options: { priority?: JobPriority } = {},
  ): Promise<T> {
    if (this.stopped) return Promise.reject(new LimiterShutdownError());
    const now = Date.now();
    const lane = this.pick(now);
    if (!lane) {
      const breakerOpen = this.lanes.some((l) => this.laneState(l, now) === 'breaker_open');
      return Promise.reject(
        new HandedBackError(breakerOpen ? 'breaker_open' : 'no_usable_key', null),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        run,
        phase: 'queued',
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      lane.jobs.add(job);
      lane.bottleneck
        .schedule({ priority: BOTTLENECK_PRIORITY[options.priority ?? 'later'] }, () =>
          this.execute(lane, job),
        )
        .then(
          (value) => this.settle(lane, job, 'resolve', value),
          (err: unknown) =>
            this.settle(
              lane,
              job,
              'reject',
              err instanceof Bottleneck.BottleneckError ? new LimiterShutdownError() : err,
            ),
        );
    });
  }

  /** How many more jobs the keys in rotation can take now (each: its concurrency + 1 waiting); 0 once stopped. */
  capacity(): number {
    if (this.stopped) return 0;
    const now = Date.now();
    let free = 0;
    for (const lane of this.lanes) {
      if (!this.inRotation(lane, now)) continue;
      free += Math.max(0, this.concurrency(lane) + 1 - this.pendingOf(lane));
    }
    return free;
  }

  /** The keys in rotation now (active or probing). */
  usable(): PartnerKeyName[] {
    const now = Date.now();
    return this.lanes
      .filter((l) => this.inRotation(l, now))
      .map((l) => ({ label: l.key.label, fingerprint: l.key.fingerprint }));
  }

  /** Awaited before every call; a guard that throws rejects that job with its error, spending nothing. */
  addStartGuard(guard: StartGuard): void {
    this.guards.push(guard);
  }

  /** Calls the observer on partner calls and key changes; returns a function that stops it. */
  observe(observer: LimiterObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Rejects every job still waiting for a turn with `reason`; returns how many. */
  clearQueued(reason: Error): number {
    let n = 0;
    for (const lane of this.lanes) n += this.handBackQueued(lane, () => reason);
    return n;
  }

  state(): LimiterState {
    const now = Date.now();
    const keys = this.lanes.map((l) => this.keyState(l, now));
    const held = keys.map((k) => k.heldUntil);
    const worst = (['open', 'half-open'] as const).find((b) => keys.some((k) => k.breaker === b));
    return {
      limit: this.options.limit * keys.length,
      windowMs: this.options.windowMs,
      spentInWindow: keys.reduce((n, k) => n + k.spentInWindow, 0),
      running: keys.reduce((n, k) => n + k.running, 0),
      queued: this.lanes.reduce((n, l) => n + this.queuedOf(l), 0),
      pausedUntil: held.every((h) => h !== null) ? held.sort()[0] : null,
      breaker: worst ?? 'closed',
      keys,
    };
  }

  /**
   * An operator's word that the keys are usable again (sync resume): drops every hold, lowered
   * pace and rejection at once. The slow start stays, so a key that is still spent or refused
   * costs one call, not a burst. Returns the first hold that was cleared, or null.
   */
  clearHold(by: string): LimiterHold | null {
    const now = Date.now();
    let first: LimiterHold | null = null;
    for (const lane of this.lanes) {
      const hold = this.currentHold(lane, now);
      const rejected = lane.rejectedUntil > now;
      first ??= hold;
      if (!hold && !rejected && lane.rejections.length === 0) continue;
      this.clearTimers(lane);
      lane.heldUntil = 0;
      lane.holdInfo = null;
      lane.rejectedUntil = 0;
      lane.rejections = [];
      lane.allowed = this.options.limit;
      lane.slowStart = true;
      void lane.bottleneck.updateSettings({ reservoir: null, maxConcurrent: 1 });
      if (hold || rejected) {
        this.logger.warn({
          msg: 'partner key released by an operator',
          by,
          key: lane.key.label,
          fingerprint: lane.key.fingerprint,
          heldUntil: hold?.until ?? null,
          rejectedStatus: rejected ? lane.rejectedStatus : null,
        });
      }
    }
    this.keysChanged();
    return first;
  }

  /**
   * Stops starting jobs, rejects the waiting ones with LimiterShutdownError (Bottleneck's
   * stop({ dropWaitingJobs: true })) and waits up to `timeoutMs` for running ones to finish
   * (their results still reach their callers). Returns true when nothing was left running.
   */
  async drain(timeoutMs: number = this.options.shutdownTimeoutMs): Promise<boolean> {
    this.stopped = true;
    const rejected = this.clearQueued(new LimiterShutdownError());
    const running = this.lanes.reduce((n, l) => n + l.jobs.size, 0);
    if (rejected > 0 || running > 0) {
      this.logger.log({ msg: 'draining partner queue', rejected, running });
    }
    for (const lane of this.lanes) this.clearTimers(lane);
    const stopped = Promise.all(
      this.lanes.map((l) => l.bottleneck.stop({ dropWaitingJobs: true }).catch(() => undefined)),
    ).then(() => true);
    let timeout: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      stopped,
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timeout);
    if (!idle) {
      this.logger.warn({
        msg: 'partner calls still running at shutdown',
        running: this.lanes.reduce((n, l) => n + l.jobs.size, 0),
      });
    }
    return idle;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain(this.options.shutdownTimeoutMs);
  }

  // ---- keys -----------------------------------------------------------------------------------

  private lane(key: PartnerKey): Lane {
    const bottleneck = new Bottleneck({
      maxConcurrent: 1, // slow start; raised by the first success
      minTime: this.baseMinTime,
    });
    bottleneck.on('error', (err: unknown) => {
      this.logger.error({ msg: 'limiter error', key: key.label, error: (err as Error).message });
    });
    const breaker = circuitBreaker(
      handleWhen((err) => err instanceof TransientVerdict),
      {
        halfOpenAfter: this.options.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.options.breakerThreshold),
      },
    );
    const lane: Lane = {
      key,
      bottleneck,
      breaker,
      breakerOpenUntil: 0,
      jobs: new Set(),
      running: 0,
      starts: [],
      rejections: [],
      allowed: this.options.limit,
      slowStart: true,
      heldUntil: 0,
      holdInfo: null,
      consecutiveRateLimits: 0,
      rejectedUntil: 0,
      rejectedStatus: null,
      timers: new Set(),
    };
    breaker.onBreak(() => {
      lane.breakerOpenUntil = Date.now() + this.options.breakerHalfOpenAfterMs;
      this.slowStart(lane);
      this.logger.warn({
        msg: 'partner circuit breaker opened',
        key: key.label,
        fingerprint: key.fingerprint,
        retryAt: new Date(lane.breakerOpenUntil).toISOString(),
      });
      this.handBackQueued(lane, () => new HandedBackError('breaker_open', key.label));
      this.at(lane, lane.breakerOpenUntil, () => this.keysChanged());
      this.keysChanged();
    });
    breaker.onReset(() => {
      lane.breakerOpenUntil = 0;
      this.logger.log({ msg: 'partner circuit breaker closed', key: key.label });
      this.keysChanged();
    });
    return lane;
  }

  private laneState(lane: Lane, now: number): KeyState {
    if (lane.rejectedUntil > now) return 'rejected';
    if (lane.heldUntil > now) return 'held';
    if (lane.breaker.state === CircuitState.Open && now < lane.breakerOpenUntil) {
      return 'breaker_open';
    }
    return lane.slowStart || lane.breaker.state !== CircuitState.Closed ? 'probing' : 'active';
  }

  private inRotation(lane: Lane, now: number): boolean {
    const state = this.laneState(lane, now);
    return state === 'active' || state === 'probing';
  }

  private concurrency(lane: Lane): number {
    return lane.slowStart ? 1 : this.options.maxConcurrency;
  }

  private pendingOf(lane: Lane): number {
    return lane.jobs.size;
  }

  private queuedOf(lane: Lane): number {
    let n = 0;
    for (const job of lane.jobs) if (job.phase === 'queued') n++;
    return n;
  }

  /** The usable key with the least work; else the held key back first; else none. */
  private pick(now: number): Lane | null {
    let best: Lane | null = null;
    for (const lane of this.lanes) {
      if (!this.inRotation(lane, now)) continue;
      if (!best || this.pendingOf(lane) < this.pendingOf(best)) best = lane;
    }
    if (best) return best;
    for (const lane of this.lanes) {
      if (this.laneState(lane, now) !== 'held') continue;
      if (!best || lane.heldUntil < best.heldUntil) best = lane;
    }
    return best;
  }

  private breakerState(lane: Lane, now: number): BreakerState {
    switch (lane.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return now >= lane.breakerOpenUntil ? 'half-open' : 'open';
    }
  }

  private currentHold(lane: Lane, now: number): LimiterHold | null {
    if (lane.heldUntil <= now || !lane.holdInfo) return null;
    return { ...lane.holdInfo, until: new Date(lane.heldUntil).toISOString() };
  }

  private keyState(lane: Lane, now: number): LimiterKeyState {
    const hold = this.currentHold(lane, now);
    const breaker = this.breakerState(lane, now);
    return {
      name: lane.key.label,
      fingerprint: lane.key.fingerprint,
      state: this.laneState(lane, now),
      limit: this.options.limit,
      windowMs: this.options.windowMs,
      spentInWindow: startsWithin(lane.starts, now, this.options.windowMs),
      running: lane.running,
      heldUntil: hold?.until ?? null,
      hold,
      breaker,
      breakerRetryAt:
        breaker === 'open' && lane.breakerOpenUntil > 0
          ? new Date(lane.breakerOpenUntil).toISOString()
          : null,
      rejectedStatus: lane.rejectedStatus,
    };
  }

  // ---- one job --------------------------------------------------------------------------------

  /** Runs inside the key's Bottleneck, when the pace gives the job its turn. */
  private async execute(lane: Lane, job: Job): Promise<unknown> {
    if (job.phase === 'done') return undefined; // handed back while it waited
    job.phase = 'started';
    this.refuseIfUnavailable(lane);
    for (const guard of this.guards) await guard(lane.key);
    if (this.stopped) throw new LimiterShutdownError();
    // A 429 or a rejection may have come while the guards ran: nothing was sent yet.
    this.refuseIfUnavailable(lane);

    await this.roomInWindow(lane);
    if (this.stopped) throw new LimiterShutdownError();
    this.refuseIfUnavailable(lane);

    let sent = false;
    let startedAt = 0;
    const stamp = { at: 0 };
    try {
      const value = await lane.breaker.execute(() => {
        sent = true;
        startedAt = performance.now();
        lane.running++;
        this.stampStart(lane, stamp);
        return job.run(lane.key);
      });
      this.stampStart(lane, stamp);
      lane.running--;
      this.emitCall(lane, 'ok', startedAt);
      this.onSuccess(lane);
      return value;
    } catch (err) {
      if (!sent) {
        if (!(err instanceof BrokenCircuitError)) throw err;
        for (const o of this.observers) o.partnerCall?.(lane.key, 'breaker_open');
        throw new HandedBackError('breaker_open', lane.key.label);
      }
      this.stampStart(lane, stamp);
      lane.running--;
      throw this.onFailure(lane, err, startedAt);
    }
  }

  private refuseIfUnavailable(lane: Lane): void {
    const state = this.laneState(lane, Date.now());
    if (state === 'held') throw new HandedBackError('rate_limited', lane.key.label);
    if (state === 'rejected') throw new HandedBackError('key_rejected', lane.key.label);
  }

  private settle(lane: Lane, job: Job, how: 'resolve' | 'reject', value: unknown): void {
    if (job.phase === 'done') return;
    job.phase = 'done';
    lane.jobs.delete(job);
    if (how === 'resolve') job.resolve(value);
    else job.reject(value);
  }

  /** Rejects the key's waiting jobs (they stay due); Bottleneck later skips them at their turn. */
  private handBackQueued(lane: Lane, reason: () => Error): number {
    let n = 0;
    for (const job of [...lane.jobs]) {
      if (job.phase !== 'queued') continue;
      this.settle(lane, job, 'reject', reason());
      n++;
    }
    return n;
  }

  /**
   * Bottleneck spaces its launches minTime apart, but a timer that fires late (a loaded machine,
   * a slow start guard) brings two sends closer than that. So the send itself also waits until
   * the key's own sliding window (+ margin) has room; it rarely has to. After a 429 the room is
   * the share: the probe waits until enough of our own calls (rejected ones included: the
   * partner counts them) have left the window, which is what frees room on a shared key; the
   * partner's reset only says when room would be free if nobody else were calling.
   */
  private async roomInWindow(lane: Lane): Promise<void> {
    const lengthMs = this.options.windowMs + this.options.marginMs;
    for (;;) {
      const now = Date.now();
      const inWindow = startsWithin(lane.starts, now, lengthMs);
      if (inWindow < lane.allowed) return;
      const oldest = lane.starts[lane.starts.length - lane.allowed];
      // In slices: the share may end (or an operator clear it) while this waits.
      const waitMs = Math.min(250, Math.max(1, oldest + lengthMs - now));
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /**
   * Moves a call's stamp to now: when it is sent, and again when its answer arrives. The partner
   * counted it somewhere between the two, so the answer time can only make our window stricter
   * than the partner's, whatever the request's delay on the way.
   */
  private stampStart(lane: Lane, stamp: { at: number }): void {
    if (stamp.at > 0) {
      const i = lane.starts.lastIndexOf(stamp.at);
      if (i >= 0) lane.starts.splice(i, 1);
    }
    stamp.at = Date.now();
    let i = lane.starts.length;
    while (i > 0 && lane.starts[i - 1] > stamp.at) i--;
    lane.starts.splice(i, 0, stamp.at);
    const horizon = stamp.at - 2 * (this.options.windowMs + this.options.marginMs);
    while (lane.starts.length > 0 && lane.starts[0] < horizon) lane.starts.shift();
  }

  private onSuccess(lane: Lane): void {
    lane.consecutiveRateLimits = 0;
    if (lane.rejectedStatus !== null) {
      this.logger.log({
        msg: 'partner accepts the API key again',
        key: lane.key.label,
        fingerprint: lane.key.fingerprint,
      });
      lane.rejectedStatus = null;
    }
    if (lane.slowStart) {
      lane.slowStart = false;
      void lane.bottleneck.updateSettings({ maxConcurrent: this.options.maxConcurrency });
      this.keysChanged();
    }
  }

  /** Classifies a failed call; returns what the caller receives. */
  private onFailure(lane: Lane, err: unknown, startedAt: number): unknown {
    if (!(err instanceof CallVerdict)) return err;
    this.emitCall(lane, err.outcome, startedAt);
    if (err instanceof RateLimitedVerdict) {
      this.hold(lane, err.waitUntil);
      return new HandedBackError('rate_limited', lane.key.label);
    }
    if (err instanceof KeyRejectedVerdict) {
      this.reject(lane, err.status);
      // With another key in rotation the product-date just takes its next turn there.
      return this.lanes.some((l) => this.inRotation(l, Date.now()))
        ? new HandedBackError('key_rejected', lane.key.label)
        : err.cause;
    }
    return err.cause;
  }

  /**
   * A 429 means this key is spent for everyone: hold it until the partner's reset (reservoir 0),
   * allow it for one window after that only the share the partner accepted from us, and restart
   * it one call at a time. Its waiting jobs go to the other keys when one is in rotation.
   */
  private hold(lane: Lane, waitUntil: number | null): void {
    const now = Date.now();
    const lengthMs = this.options.windowMs + this.options.marginMs;
    lane.consecutiveRateLimits++;
    const hold = holdAfterRateLimit(
      now,
      waitUntil,
      this.options.windowMs,
      this.options.marginMs,
      lane.consecutiveRateLimits,
    );
    lane.rejections = lane.rejections.filter((t) => t > now - lengthMs);
    lane.rejections.push(now);
    const share = limitAfterRateLimit(
      startsWithin(lane.starts, now, lengthMs),
      lane.rejections.length,
    );
    const alreadyHeld = lane.heldUntil > now;
    if (hold.until > lane.heldUntil) {
      lane.heldUntil = hold.until;
      lane.holdInfo = {
        reason: 'rate_limited',
        since: new Date(now).toISOString(),
        hintedUntil: hold.hintedUntil !== null ? new Date(hold.hintedUntil).toISOString() : null,
        capped: hold.capped,
      };
    }
    this.clearTimers(lane);
    lane.slowStart = true;
    lane.allowed = share;
    // Not a longer minTime for the share: Bottleneck would keep the waits it already committed to
    // after the share is over. The share is a sliding count (roomInWindow) at the usual pace.
    void lane.bottleneck.updateSettings({ reservoir: 0, maxConcurrent: 1 });
    this.at(lane, lane.heldUntil, () => {
      void lane.bottleneck.updateSettings({ reservoir: null });
      this.keysChanged();
    });
    // The foreign consumer may still be there: its share for one window, then the whole budget.
    this.at(lane, lane.heldUntil + lengthMs, () => {
      lane.rejections = [];
      lane.allowed = this.options.limit;
    });
    if (hold.capped) {
      this.logger.warn({
        msg: `partner rate-limit hint is more than ${MAX_HOLD_WINDOWS} windows ahead; hold capped`,
        key: lane.key.label,
        hintedUntil: new Date(hold.hintedUntil ?? hold.until).toISOString(),
        heldUntil: new Date(lane.heldUntil).toISOString(),
      });
    }
    if (!alreadyHeld) {
      this.logger.warn({
        msg: 'partner rate limit hit; holding the key',
        key: lane.key.label,
        heldUntil: new Date(lane.heldUntil).toISOString(),
        share,
      });
    }
    if (this.lanes.some((l) => this.inRotation(l, now))) {
      this.handBackQueued(lane, () => new HandedBackError('rate_limited', lane.key.label));
    }
    this.keysChanged();
  }

  /** A 401/403: the key leaves the rotation until a probe, logged once (name and fingerprint only). */
  private reject(lane: Lane, status: 401 | 403): void {
    const now = Date.now();
    const wasRejected = lane.rejectedStatus !== null;
    lane.rejectedStatus = status;
    lane.rejectedUntil = now + this.options.rejectedProbeAfterMs;
    this.slowStart(lane);
    if (!wasRejected) {
      this.logger.error({
        msg: 'partner rejected an API key; it leaves the rotation',
        key: lane.key.label,
        fingerprint: lane.key.fingerprint,
        status,
        probeAt: new Date(lane.rejectedUntil).toISOString(),
      });
    }
    this.handBackQueued(lane, () => new HandedBackError('key_rejected', lane.key.label));
    this.at(lane, lane.rejectedUntil, () => this.keysChanged());
    this.keysChanged();
  }

  private slowStart(lane: Lane): void {
    lane.slowStart = true;
    void lane.bottleneck.updateSettings({ maxConcurrent: 1 });
  }

  private emitCall(lane: Lane, outcome: string, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    for (const o of this.observers) o.partnerCall?.(lane.key, outcome, seconds);
  }

  private keysChanged(): void {
    for (const o of this.observers) o.keysChanged?.();
  }

  private at(lane: Lane, when: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        lane.timers.delete(timer);
        if (!this.stopped) fn();
      },
      Math.max(1, when - Date.now()),
    );
    timer.unref();
    lane.timers.add(timer);
  }

  private clearTimers(lane: Lane): void {
    for (const t of lane.timers) clearTimeout(t);
    lane.timers.clear();
  }
}
