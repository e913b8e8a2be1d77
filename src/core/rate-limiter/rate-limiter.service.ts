import { BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { KeyLane } from './key-lane';
import type { LanePool } from './key-status';
import { partnerKeys } from './partner-keys';
import { HandedBackError, LimiterShutdownError } from './rate-limiter.errors';
import { keyConcurrency, minTimeMs } from './rate-limiter.policy';
import {
  RATE_LIMITER_OPTIONS,
  rateLimiterOptions,
  type RateLimiterOptions,
} from './rate-limiter.options';
import type {
  JobPriority,
  LimiterHold,
  LimiterObserver,
  LimiterState,
  PartnerKey,
  PartnerKeyName,
  StartGuard,
} from './rate-limiter.types';

export { RATE_LIMITER_OPTIONS, rateLimiterOptions, type RateLimiterOptions };

/** Jobs a key holds that are not sent yet (waiting for a turn of its pace, or starting). */
const LANE_DEPTH = 3;

/**
 * The only door to the partner's request budget: one Bottleneck limiter per API key paces that
 * key's calls (minTime = (window + margin) ÷ limit, so no sliding window ever holds more than the
 * limit) and bounds its calls in flight (by default as many as can overlap within the partner
 * deadline, so a call that hangs holds back no send the pace allows). The dispatcher asks `capacity()` and hands over at most
 * that many product-dates; `schedule` gives each to the usable key with the least work queued.
 *
 * Each key's lane (KeyLane) holds what Bottleneck cannot do: the hold after a 429, the share, the
 * slow start, the rejection after a 401/403 and the breaker. There are no retries here: a failed
 * call returns its error, and the due list's backoff retries it through the budget. Jobs the
 * limiter could not run (429, rejected key, shutdown) come back as NotAttemptedError subclasses:
 * they stay due without a failure.
 */
@Injectable()
export class RateLimiterService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RateLimiterService.name);
  readonly options: RateLimiterOptions;
  private readonly lanes: KeyLane[];
  private readonly guards: StartGuard[] = [];
  private readonly observers = new Set<LimiterObserver>();
  private stopped = false;

  constructor(
    @InjectConfig() config: AppConfig,
    @Optional() @Inject(RATE_LIMITER_OPTIONS) overrides?: Partial<RateLimiterOptions>,
  ) {
    this.options = rateLimiterOptions(config, overrides);
    const { windowMs, marginMs, limit, maxConcurrency } = this.options;
    const needed = keyConcurrency(
      config.partner.timeoutMs,
      minTimeMs(windowMs, marginMs, limit),
      1e6,
    );
    if (maxConcurrency < needed) {
      this.logger.warn({
        msg: 'PARTNER_MAX_CONCURRENCY is below the calls a key can have in flight within PARTNER_TIMEOUT_MS: calls that hang can hold back sends the budget allows',
        maxConcurrency,
        needed,
      });
    }
    const pool: LanePool = {
      stopped: () => this.stopped,
      guards: () => this.guards,
      observers: () => this.observers,
      anyInRotation: (now) => this.lanes.some((l) => l.inRotation(now)),
      logger: this.logger,
    };
    this.lanes = partnerKeys(config.partner.apiKeys).map(
      (key) => new KeyLane(key, this.options, pool),
    );
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
      const breakerOpen = this.lanes.some((l) => l.state(now) === 'breaker_open');
      return Promise.reject(
        new HandedBackError(breakerOpen ? 'breaker_open' : 'no_usable_key', null),
      );
    }
    return lane.schedule(run, options.priority ?? 'later');
  }

  /**
   * How many more jobs the keys in rotation can take now; 0 once stopped. Each key takes its free
   * places in flight + 1, at most LANE_DEPTH jobs not yet sent: calls already sent and still
   * unanswered (a hung product) take no turn from the pace, and no more is handed over than the
   * next few turns of the pace will start.
   */
  capacity(): number {
    if (this.stopped) return 0;
    const now = Date.now();
    let free = 0;
    for (const lane of this.lanes) {
      if (!lane.inRotation(now)) continue;
      const running = lane.inFlight();
      const places = Math.min(LANE_DEPTH, lane.concurrency() - running + 1);
      free += Math.max(0, places - (lane.pending() - running));
    }
    return free;
  }

  /**
   * How many calls no freshness floor asks for the keys in rotation may still take now, so that
   * their windows hold at most `share` (SYNC_BUDGET_SHARE) of each key's allowance: the spare
   * budget the value rule spends. Calls a floor forces are not counted against it here; they
   * take whatever the pace leaves.
   */
  spareRoom(share: number): number {
    if (this.stopped || !(share > 0)) return 0;
    const now = Date.now();
    let room = 0;
    for (const lane of this.lanes) if (lane.inRotation(now)) room += lane.spareRoom(share, now);
    return room;
  }

  /** The keys in rotation now (active or probing). */
  usable(): PartnerKeyName[] {
    const now = Date.now();
    return this.lanes
      .filter((l) => l.inRotation(now))
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
    for (const lane of this.lanes) n += lane.handBackQueued(() => reason);
    return n;
  }

  state(): LimiterState {
    const now = Date.now();
    const keys = this.lanes.map((l) => l.snapshot(now));
    const held = keys.map((k) => k.heldUntil);
    const worst = (['open', 'half-open'] as const).find((b) => keys.some((k) => k.breaker === b));
    return {
      limit: this.options.limit * keys.length,
      windowMs: this.options.windowMs,
      spentInWindow: keys.reduce((n, k) => n + k.spentInWindow, 0),
      running: keys.reduce((n, k) => n + k.running, 0),
      queued: this.lanes.reduce((n, l) => n + l.queued(), 0),
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
      const hold = lane.release(by, now); // every lane, not only up to the first hold
      first ??= hold;
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
    const running = this.lanes.reduce((n, l) => n + l.pending(), 0);
    if (rejected > 0 || running > 0) {
      this.logger.log({ msg: 'draining partner queue', rejected, running });
    }
    const stopped = Promise.all(this.lanes.map((l) => l.stop().catch(() => undefined))).then(
      () => true,
    );
    let timeout: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      stopped,
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timeout);
    if (!idle) {
      this.logger.warn({
        msg: 'partner calls still running at shutdown',
        running: this.lanes.reduce((n, l) => n + l.pending(), 0),
      });
    }
    return idle;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain(this.options.shutdownTimeoutMs);
  }

  /** The usable key with the least work; else the held key back first; else none. */
  private pick(now: number): KeyLane | null {
    let best: KeyLane | null = null;
    for (const lane of this.lanes) {
      if (!lane.inRotation(now)) continue;
      if (!best || lane.pending() < best.pending()) best = lane;
    }
    if (best) return best;
    for (const lane of this.lanes) {
      if (lane.state(now) !== 'held') continue;
      if (!best || lane.heldUntil < best.heldUntil) best = lane;
    }
    return best;
  }

  private keysChanged(): void {
    for (const o of this.observers) o.keysChanged?.();
  }
}
