import type { Logger } from '@nestjs/common';
import type Bottleneck from 'bottleneck';
import {
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { CallWindow } from './call-window';
import { HandedBackError, TransientVerdict } from './rate-limiter.errors';
import type { RateLimiterOptions } from './rate-limiter.options';
import { MAX_HOLD_WINDOWS, holdAfterRateLimit, minTimeMs } from './rate-limiter.policy';
import type {
  BreakerState,
  KeyState,
  LimiterHold,
  LimiterObserver,
  PartnerKey,
  StartGuard,
} from './rate-limiter.types';

/** What a key's lane (and its status) needs from the pool it belongs to. */
export interface LanePool {
  /** True once the pool drains: nothing more starts, no timer acts. */
  stopped(): boolean;
  guards(): readonly StartGuard[];
  observers(): Iterable<LimiterObserver>;
  /** Whether any key of the pool (this one included) is in rotation now. */
  anyInRotation(now: number): boolean;
  /** The limiter's logger: a key's lines stay where operators and alerts look for the budget. */
  readonly logger: Logger;
}

/** What a key's status changes in its lane: the Bottleneck's settings and the jobs still waiting. */
export interface LaneControls {
  updateSettings(settings: Bottleneck.ConstructorOptions): void;
  handBackQueued(reason: () => Error): number;
}

/**
 * Where one key stands, and the timers that end it: held after a 429 (reservoir 0 until the
 * partner's reset, then the share for one window), out of rotation after a 401/403 until a probe,
 * its cockatiel breaker, and the slow start after any of them (maxConcurrent 1 until a call
 * succeeds; a call still unanswered after one pace step is no quick refusal and frees its place).
 */
export class KeyStatus {
  readonly breaker: CircuitBreakerPolicy;
  private breakerOpenUntil = 0;
  /** One call at a time until a call succeeds (at boot, after a hold, a rejection, a breaker). */
  private slowStart = true;
  /**
   * Calls sent in slow start that were still unanswered a pace step later: a 429 or a 401 comes
   * back at once, so such a call (a hung product) says nothing about the key and must not hold
   * the next call back. Each counts as a place added to the slow start's one until it ends.
   */
  private readonly overdue = new Set<object>();
  private readonly patienceMs: number;
  private heldUntilMs = 0;
  private holdInfo: Omit<LimiterHold, 'until'> | null = null;
  private consecutiveRateLimits = 0;
  private rejectedUntil = 0;
  private rejectedStatusNow: 401 | 403 | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly key: PartnerKey,
    private readonly options: RateLimiterOptions,
    private readonly pool: LanePool,
    private readonly window: CallWindow,
    private readonly lane: LaneControls,
  ) {
    this.patienceMs = minTimeMs(options.windowMs, options.marginMs, options.limit);
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
      this.lane.handBackQueued(() => new HandedBackError('breaker_open', key.label));
      this.at(this.breakerOpenUntil, () => this.keysChanged());
      this.keysChanged();
    });
    this.breaker.onReset(() => {
      this.breakerOpenUntil = 0;
      this.pool.logger.log({ msg: 'partner circuit breaker closed', key: key.label });
      this.keysChanged();
    });
  }

  state(now: number): KeyState {
    if (this.rejectedUntil > now) return 'rejected';
    if (this.heldUntilMs > now) return 'held';
    if (this.breaker.state === CircuitState.Open && now < this.breakerOpenUntil) {
      return 'breaker_open';
    }
    return this.slowStart || this.breaker.state !== CircuitState.Closed ? 'probing' : 'active';
  }

  /** When the current or last hold ends (0 when the key was never held). */
  get heldUntil(): number {
    return this.heldUntilMs;
  }

  get rejectedStatus(): 401 | 403 | null {
    return this.rejectedStatusNow;
  }

  concurrency(): number {
    const full = this.options.maxConcurrency;
    return this.slowStart ? Math.min(full, 1 + this.overdue.size) : full;
  }

  /**
   * A call was sent. In slow start, one still running a pace step later is counted overdue (see
   * `overdue`) and the next call may go. Returns what the lane calls when the call ends.
   */
  sent(): () => void {
    if (!this.slowStart) return () => undefined;
    const call = {};
    let ended = false;
    const timer = setTimeout(() => {
      if (ended || this.pool.stopped()) return;
      this.overdue.add(call);
      if (this.slowStart) {
        this.lane.updateSettings({ maxConcurrent: this.concurrency() });
        this.keysChanged();
      }
    }, this.patienceMs);
    timer.unref();
    return () => {
      ended = true;
      clearTimeout(timer);
      if (this.overdue.delete(call) && this.slowStart) {
        this.lane.updateSettings({ maxConcurrent: this.concurrency() });
      }
    };
  }

  currentHold(now: number): LimiterHold | null {
    if (this.heldUntilMs <= now || !this.holdInfo) return null;
    return { ...this.holdInfo, until: new Date(this.heldUntilMs).toISOString() };
  }

  breakerState(now: number): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return now >= this.breakerOpenUntil ? 'half-open' : 'open';
    }
  }

  /** When an open breaker lets its probe through; null unless open. */
  breakerRetryAt(now: number): string | null {
    return this.breakerState(now) === 'open' && this.breakerOpenUntil > 0
      ? new Date(this.breakerOpenUntil).toISOString()
      : null;
  }

  /** A call succeeded: the key is accepted again and leaves its slow start. */
  accepted(): void {
    this.consecutiveRateLimits = 0;
    if (this.rejectedStatusNow !== null) {
      this.pool.logger.log({
        msg: 'partner accepts the API key again',
        key: this.key.label,
        fingerprint: this.key.fingerprint,
      });
      this.rejectedStatusNow = null;
    }
    if (this.slowStart) {
      this.slowStart = false;
      this.lane.updateSettings({ maxConcurrent: this.options.maxConcurrency });
      this.keysChanged();
    }
  }

  /**
   * A 429 means this key is spent for everyone: hold it until the partner's reset (reservoir 0),
   * allow it for one window after that only the share the partner accepted from us, and restart
   * it one call at a time. Its waiting jobs go to the other keys when one is in rotation.
   */
  rateLimited(waitUntil: number | null): void {
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
    this.lane.updateSettings({ reservoir: 0, maxConcurrent: this.concurrency() });
    this.at(this.heldUntilMs, () => {
      this.lane.updateSettings({ reservoir: null });
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
      this.lane.handBackQueued(() => new HandedBackError('rate_limited', this.key.label));
    }
    this.keysChanged();
  }

  /** A 401/403: the key leaves the rotation until a probe, logged once (name and fingerprint only). */
  refused(status: 401 | 403): void {
    const now = Date.now();
    const wasRejected = this.rejectedStatusNow !== null;
    this.rejectedStatusNow = status;
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
    this.lane.handBackQueued(() => new HandedBackError('key_rejected', this.key.label));
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
    this.lane.updateSettings({ reservoir: null, maxConcurrent: this.concurrency() });
    if (hold || rejected) {
      this.pool.logger.warn({
        msg: 'partner key released by an operator',
        by,
        key: this.key.label,
        fingerprint: this.key.fingerprint,
        heldUntil: hold?.until ?? null,
        rejectedStatus: rejected ? this.rejectedStatusNow : null,
      });
    }
    return hold;
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private startSlow(): void {
    this.slowStart = true;
    this.lane.updateSettings({ maxConcurrent: this.concurrency() });
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
}
