import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Observable } from 'rxjs';
import { DatabaseOutageReporter } from '../common/database-unavailable';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import type { LimiterState } from '../core/rate-limiter/rate-limiter.types';
import type { Prisma } from '../generated/prisma/client';
import { ClusterNotifications } from './cluster-notifications.service';
import { resolveInstanceId } from './instance-id';
import {
  LeaderLeaseRepository,
  type LeaseView,
  type PublishedLeaderState,
} from './leader-lease.repository';
import { LeaderTerm, type LeadershipChange } from './leader-term';
import { leaseTiming, nextAttemptDelayMs, type LeaseTiming } from './lease-timing';
import { PartnerCallGuard } from './partner-call-guard';

/**
 * Leader election through a lease row in PostgreSQL (LeaderLeaseRepository): the loop that
 * acquires, renews and releases it, moving this process's LeaderTerm. The fence number grows at
 * each change of holder; every partner call is preceded by a fenced write (PartnerCallGuard), so
 * a leader that lost the lease — paused process, lost network, restarted with the same id —
 * cannot spend the key's budget.
 */
@Injectable()
export class LeaderLeaseService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LeaderLeaseService.name);
  readonly instanceId: string;
  readonly timing: LeaseTiming;
  private readonly term: LeaderTerm;
  private readonly guard: PartnerCallGuard;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private attemptInFlight: Promise<void> | null = null;
  private validation: Promise<void> | null = null;
  private stateProvider: (() => LimiterState | null) | null = null;
  /** The lease row as last read by this instance (every attempt reads it). */
  private lastSeen: {
    holderId: string;
    since: Date;
    /** performance.now() when it expires. */
    expiresAt: number;
    state: PublishedLeaderState | null;
  } | null = null;

  constructor(
    private readonly repository: LeaderLeaseRepository,
    private readonly notifications: ClusterNotifications,
    @InjectConfig() config: AppConfig,
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {
    this.instanceId = resolveInstanceId(config.cluster.instanceId);
    this.timing = leaseTiming(config.cluster.leaseMs);
    this.term = new LeaderTerm(this.instanceId);
    this.guard = new PartnerCallGuard(config.partner, repository, this.term);
  }

  /** Current leadership and every change after it (gained: run catch-up; lost: stop the queue). */
  get leadership$(): Observable<LeadershipChange> {
    return this.term.leadership$;
  }

  /** True while this process holds the lease by its own (conservative) clock. */
  isLeader(): boolean {
    return this.term.isLeader();
  }

  /** The fence of the current term, or null when not leader. */
  get fence(): string | null {
    const leading = this.term.leading();
    return leading ? String(leading.fence) : null;
  }

  /** The database clock, epoch ms, as measured at the last lease statement. */
  dbNow(): number {
    return this.term.dbNow();
  }

  /** The fence of the term this process is in, even past its local deadline (null: none). */
  currentFence(): bigint | null {
    return this.term.currentFence();
  }

  /**
   * The fenced check of a store, inside its transaction (see LeaderLeaseRepository
   * .holdsInTransaction): a term the row no longer shows is stepped down from at once.
   */
  async holdsTermInTransaction(tx: Prisma.TransactionClient, fence: bigint): Promise<boolean> {
    const seen = await this.repository.holdsInTransaction(tx, this.instanceId, fence);
    if (!seen.held && this.term.currentFence() === fence) {
      this.term.fencedOut(fence, seen.holderId, 'fenced: a store found another holder or term');
    }
    return seen.held;
  }

  /** The leader publishes this with each heartbeat (the rate limiter's state()). */
  setStateProvider(provider: () => LimiterState | null): void {
    this.stateProvider = provider;
  }

  /**
   * Throws NotLeaderError unless this instance holds the lease; confirms it against the database
   * when the last confirmation is older than ~1 s. A database that does not answer does not
   * demote: the local deadline already ends before the lease can expire for anyone else.
   */
  async assertLeader(): Promise<void> {
    this.term.requireLeader();
    if (this.term.confirmedWithin(this.timing.revalidateEveryMs)) return;
    this.validation ??= this.validate().finally(() => (this.validation = null));
    await this.validation;
    this.term.requireLeader();
  }

  /** The start guard of every partner call on the key with this fingerprint (PartnerCallGuard). */
  beforePartnerCall(fingerprint: string): Promise<void> {
    return this.guard.beforePartnerCall(fingerprint);
  }

  /**
   * The leader as this instance last saw the lease row (refreshed at every renewal or attempt,
   * i.e. at least every leaseMs/3), or null when the lease has expired and nobody took it yet.
   */
  knownLeader(): { id: string; since: string } | null {
    const leading = this.term.leading();
    if (leading) return { id: this.instanceId, since: leading.since.toISOString() };
    const seen = this.lastSeen;
    if (!seen || performance.now() >= seen.expiresAt) return null;
    return { id: seen.holderId, since: seen.since.toISOString() };
  }

  /** The limiter state the live leader published with its last heartbeat, as last read. */
  knownLeaderLimiterState(): LimiterState | null {
    if (this.term.isLeader()) return this.safeState();
    const seen = this.lastSeen;
    if (!seen || performance.now() >= seen.expiresAt) return null;
    return seen.state?.limiter ?? null;
  }

  /** The lease row as stored (null before anyone ever led). */
  currentLease(): Promise<LeaseView | null> {
    return this.repository.find();
  }

  async onModuleInit(): Promise<void> {
    this.running = true;
    // Open a pooled connection first: a lease acquired over a slow first connect would be half
    // spent before it is known to be held.
    await this.repository.openConnection().catch(() => undefined);
    // The first attempt is awaited, so a lone instance is leader before anything is scheduled.
    await this.runAttempt();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Stops renewing and hands the lease back, so a follower takes over without waiting it out. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.attemptInFlight?.catch(() => undefined);
    const fence = this.term.currentFence();
    this.term.stepDown('shutting down');
    if (fence === null) return;
    try {
      await this.repository.release(this.instanceId, fence);
    } catch (err) {
      this.logger.warn({
        msg: 'could not release the leader lease; it expires by itself',
        error: (err as Error).message,
      });
      return;
    }
    await this.notifications.publish({ type: 'lease-released' });
    this.logger.log({ msg: 'leader lease released', instanceId: this.instanceId });
  }

  /** Try now instead of at the next tick (a follower told that the lease was released). */
  attemptSoon(): void {
    if (!this.running || this.isLeader()) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runAttempt(), 0);
  }

  private async runAttempt(): Promise<void> {
    if (this.attemptInFlight) return this.attemptInFlight;
    this.attemptInFlight = this.attempt()
      .catch((err: unknown) => {
        if (!this.outage?.report('leader lease', err)) {
          this.logger.warn({ msg: 'leader lease attempt failed', error: (err as Error).message });
        }
        return this.timing.renewEveryMs;
      })
      .then((delay) => {
        this.attemptInFlight = null;
        if (!this.running) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.runAttempt(), delay);
        this.timer.unref();
      });
    return this.attemptInFlight;
  }

  /** One acquire-or-renew statement; returns the delay until the next one. */
  private async attempt(): Promise<number> {
    // A term past its local deadline still names its fence: if the database shows the lease
    // unexpired and ours, the renewal continues it (same fence, no leadership events).
    const knownFence = this.term.currentFence();
    const published: PublishedLeaderState | null =
      knownFence !== null
        ? { limiter: this.safeState(), publishedAt: new Date().toISOString() }
        : null;
    const sentAt = performance.now();
    const localSent = Date.now();
    const row = await this.repository.acquireOrRenew(
      this.instanceId,
      this.timing.leaseMs,
      knownFence,
      published,
    );
    const localReceived = Date.now();
    // Null when another instance's first insert committed during this statement (instances
    // booting together): the upsert waited for it and kept it, but the fallback reads this
    // statement's older snapshot, which has no row yet. The next attempt, at once, sees it.
    if (!row) return 0;
    this.term.measureClock(row.dbNow, localSent, localReceived);
    const remainingMs = row.expiresAt.getTime() - row.dbNow.getTime();
    this.term.sawHolder(row.holderId);
    this.lastSeen = {
      holderId: row.holderId,
      since: row.acquiredAt,
      expiresAt: sentAt + remainingMs,
      state: row.held ? null : row.prevState,
    };

    if (!row.held) {
      this.term.stepDown(`lease taken by ${row.holderId}`);
      return nextAttemptDelayMs(this.timing, remainingMs);
    }
    if (!this.running) return this.timing.renewEveryMs;
    const deadline = sentAt + remainingMs - this.timing.safetyMarginMs;
    this.term.confirmed();
    if (!this.term.extend(row.fence, deadline)) {
      this.term.stepDown('new term');
      const predecessorCallsInWindow = this.guard.startTerm(row.prevState?.calls);
      this.logger.log({
        msg: 'became sync leader',
        instanceId: this.instanceId,
        fence: String(row.fence),
        previousHolder: row.prevHolder,
        predecessorCallsInWindow,
      });
      this.term.begin(row.fence, row.acquiredAt, deadline);
    }
    // A slow round trip (first connection, busy database) eats into the lease: renew earlier.
    return Math.max(0, Math.min(this.timing.renewEveryMs, (deadline - performance.now()) / 2));
  }

  private async validate(): Promise<void> {
    const fence = this.term.currentFence();
    if (fence === null) return;
    try {
      const seen = await this.repository.confirm(this.instanceId, fence);
      if (seen.held) {
        this.term.confirmed();
      } else if (this.term.currentFence() === fence) {
        this.term.fencedOut(
          fence,
          seen.holderId,
          'the database no longer shows this instance as holder',
        );
      }
    } catch (err) {
      this.logger.warn({
        msg: 'could not confirm the leader lease; trusting it until its local deadline',
        error: (err as Error).message,
      });
    }
  }

  private safeState(): LimiterState | null {
    try {
      return this.stateProvider?.() ?? null;
    } catch {
      return null;
    }
  }
}
