import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { BehaviorSubject, type Observable } from 'rxjs';
import { DatabaseOutageReporter } from '../common/database-unavailable';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { PrismaService } from '../core/prisma.service';
import { keyFingerprint } from '../core/rate-limiter/partner-keys';
import type { LimiterState } from '../core/rate-limiter/rate-limiter.types';
import { resolveInstanceId } from './instance-id';
import { leaseTiming, nextAttemptDelayMs, type LeaseTiming } from './lease-timing';
import { NotLeaderError } from './not-leader.error';
import { PartnerCallLedger } from './partner-call-ledger';

/** The one lease that decides who runs the schedules and calls the partner. */
export const SYNC_LEADER_LEASE = 'sync-leader';

/** What the leader publishes in leader_leases.state (merged key by key, see renew/recordCall). */
export interface PublishedLeaderState {
  /**
   * Start times (database clock, epoch ms) of the partner calls made in the last rate window, by
   * key fingerprint (a plain list from a leader before several keys: counted against every key).
   */
  calls?: Record<string, number[]> | number[];
  /** The leader's limiter: queue, budget, breaker. */
  limiter?: LimiterState | null;
  publishedAt?: string;
}

/** The lease row as every instance sees it (GET status shows this, whichever instance answers). */
export interface LeaseView {
  holderId: string;
  fence: string;
  acquiredAt: Date;
  renewedAt: Date;
  expiresAt: Date;
  /** False when the holder let the lease expire (dead or released); nobody leads until taken. */
  valid: boolean;
  state: PublishedLeaderState | null;
}

export type LeadershipChange =
  | { leader: true; instanceId: string; fence: string; since: Date }
  | { leader: false; instanceId: string; reason: string };

interface AttemptRow {
  holder_id: string;
  fence: bigint;
  acquired_at: Date;
  expires_at: Date;
  held: boolean;
  db_now: Date;
  prev_holder: string | null;
  /** Held: the state before this upsert (the predecessor's). Not held: the current state. */
  prev_state: PublishedLeaderState | null;
}

interface Term {
  fence: bigint;
  since: Date;
  /** performance.now() after which this process no longer trusts its lease. */
  deadline: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Leader election through a lease row in PostgreSQL. Every statement is a single atomic
 * INSERT … ON CONFLICT / UPDATE judged on the database clock, so no pinned session is needed and
 * Prisma's pool is fine. The fence number grows at each change of holder; every partner call is
 * preceded by a fenced write (beforePartnerCall), so a leader that lost the lease — paused process,
 * lost network, restarted with the same id — cannot spend the key's budget.
 */
@Injectable()
export class LeaderLeaseService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LeaderLeaseService.name);
  readonly instanceId: string;
  readonly timing: LeaseTiming;
  private term: Term | null = null;
  private readonly changes: BehaviorSubject<LeadershipChange>;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private running = false;
  private attemptInFlight: Promise<void> | null = null;
  private lastConfirmedAt = Number.NEGATIVE_INFINITY;
  private validation: Promise<void> | null = null;
  private recordChain: Promise<unknown> = Promise.resolve();
  private stateProvider: (() => LimiterState | null) | null = null;
  /** One ledger per key, by fingerprint: each key has its own budget. */
  private readonly ledgers = new Map<string, PartnerCallLedger>();
  private readonly seedMarginMs: number;
  /** Database clock minus local clock, measured at each lease statement. */
  private dbClockOffsetMs = 0;
  private lastKnownHolder: string | null = null;
  /** The lease row as last read by this instance (every attempt reads it). */
  private lastSeen: {
    holderId: string;
    since: Date;
    /** performance.now() when it expires. */
    expiresAt: number;
    state: PublishedLeaderState | null;
  } | null = null;

  constructor(
    private readonly prisma: PrismaService,
    @InjectConfig() config: AppConfig,
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {
    this.instanceId = resolveInstanceId(config.cluster.instanceId);
    this.timing = leaseTiming(config.cluster.leaseMs);
    for (const key of config.partner.apiKeys) {
      this.ledgers.set(
        keyFingerprint(key),
        new PartnerCallLedger(config.partner.rateLimit, config.partner.rateWindowMs),
      );
    }
    // A predecessor's call reached the partner a little after it was recorded.
    this.seedMarginMs = Math.min(250, Math.max(50, Math.floor(config.partner.rateWindowMs / 10)));
    this.changes = new BehaviorSubject<LeadershipChange>({
      leader: false,
      instanceId: this.instanceId,
      reason: 'starting',
    });
  }

  /** Current leadership and every change after it (gained: run catch-up; lost: stop the queue). */
  get leadership$(): Observable<LeadershipChange> {
    return this.changes.asObservable();
  }

  /** True while this process holds the lease by its own (conservative) clock. */
  isLeader(): boolean {
    return this.term !== null && performance.now() < this.term.deadline;
  }

  /** The fence of the current term, or null when not leader. */
  get fence(): string | null {
    return this.isLeader() ? String(this.term!.fence) : null;
  }

  get leaderSince(): Date | null {
    return this.isLeader() ? this.term!.since : null;
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
    this.requireLocalLeadership();
    if (performance.now() - this.lastConfirmedAt < this.timing.revalidateEveryMs) return;
    this.validation ??= this.validate().finally(() => (this.validation = null));
    await this.validation;
    this.requireLocalLeadership();
  }

  /**
   * The start guard of every partner call: leader or throw, then wait until the cluster-wide
   * ledger of the call's key (including calls of a predecessor in this window) has room, then
   * record the call with a fenced write. Only after the write succeeded may the call go out.
   */
  async beforePartnerCall(fingerprint: string): Promise<void> {
    this.requireLocalLeadership();
    const ledger = this.ledgers.get(fingerprint);
    if (!ledger) throw new Error(`no call ledger for key ${fingerprint}`);
    let reserved = await this.reserveCall(ledger);
    for (let attempt = 0; ; attempt++) {
      const term = this.term!;
      const write = this.recordChain.then(() => this.recordCalls(term));
      this.recordChain = write.catch(() => undefined);
      await write;
      // The fenced write takes a variable while (a busy database, a loaded machine): the call
      // goes out now, so it must fit the window now, or the partner would see calls bunched.
      ledger.remove(reserved);
      const waited = ledger.waitMs(this.dbNow()) > 0;
      reserved = await this.reserveCall(ledger);
      if (!waited || attempt >= 2) return;
    }
  }

  /** Waits until one more call fits the cluster-wide window, then records it (atomically). */
  private async reserveCall(ledger: PartnerCallLedger): Promise<number> {
    for (;;) {
      this.requireLocalLeadership();
      const now = this.dbNow();
      const wait = ledger.waitMs(now);
      if (wait === 0) {
        ledger.record(now);
        return now;
      }
      await sleep(Math.min(wait, 250));
    }
  }

  /**
   * The leader as this instance last saw the lease row (refreshed at every renewal or attempt,
   * i.e. at least every leaseMs/3), or null when the lease has expired and nobody took it yet.
   */
  knownLeader(): { id: string; since: string } | null {
    if (this.isLeader()) return { id: this.instanceId, since: this.term!.since.toISOString() };
    const seen = this.lastSeen;
    if (!seen || performance.now() >= seen.expiresAt) return null;
    return { id: seen.holderId, since: seen.since.toISOString() };
  }

  /** The limiter state the live leader published with its last heartbeat, as last read. */
  knownLeaderLimiterState(): LimiterState | null {
    if (this.isLeader()) return this.safeState();
    const seen = this.lastSeen;
    if (!seen || performance.now() >= seen.expiresAt) return null;
    return seen.state?.limiter ?? null;
  }

  /** The lease row as stored (null before anyone ever led). */
  async currentLease(): Promise<LeaseView | null> {
    const rows = await this.prisma.$queryRaw<
      {
        holder_id: string;
        fence: bigint;
        acquired_at: Date;
        renewed_at: Date;
        expires_at: Date;
        valid: boolean;
        state: PublishedLeaderState | null;
      }[]
    >`SELECT holder_id, fence, acquired_at, renewed_at, expires_at, expires_at > now() AS valid, state
      FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}`;
    const r = rows[0];
    if (!r) return null;
    return {
      holderId: r.holder_id,
      fence: String(r.fence),
      acquiredAt: r.acquired_at,
      renewedAt: r.renewed_at,
      expiresAt: r.expires_at,
      valid: r.valid,
      state: r.state,
    };
  }

  async onModuleInit(): Promise<void> {
    this.running = true;
    // Open a pooled connection first: a lease acquired over a slow first connect would be half
    // spent before it is known to be held.
    await this.prisma.$queryRaw`SELECT 1`.catch(() => undefined);
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
    const term = this.term;
    this.stepDown('shutting down');
    if (!term) return;
    try {
      await this.prisma.$executeRaw`
        UPDATE leader_leases SET expires_at = now() - interval '1 millisecond'
        WHERE name = ${SYNC_LEADER_LEASE} AND holder_id = ${this.instanceId} AND fence = ${term.fence}`;
      await this.prisma.$executeRaw`SELECT pg_notify('inventory_cluster', ${JSON.stringify({
        type: 'lease-released',
        from: this.instanceId,
      })})`;
      this.logger.log({ msg: 'leader lease released', instanceId: this.instanceId });
    } catch (err) {
      this.logger.warn({
        msg: 'could not release the leader lease; it expires by itself',
        error: (err as Error).message,
      });
    }
  }

  /** Try now instead of at the next tick (a follower told that the lease was released). */
  attemptSoon(): void {
    if (!this.running || this.isLeader()) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runAttempt(), 0);
  }

  private requireLocalLeadership(): void {
    if (!this.isLeader()) throw new NotLeaderError(this.instanceId, this.lastKnownHolder);
  }

  private dbNow(): number {
    return Date.now() + this.dbClockOffsetMs;
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
    const term = this.term;
    const knownFence = term?.fence ?? null;
    const published: PublishedLeaderState | null = term
      ? { limiter: this.safeState(), publishedAt: new Date().toISOString() }
      : null;
    const sentAt = performance.now();
    const localSent = Date.now();
    // `prev` and the fallback branch read the snapshot before the upsert: on takeover we learn
    // what the previous holder published (its partner calls) in the same round trip.
    const rows = await this.prisma.$queryRaw<AttemptRow[]>`
      WITH prev AS (
        SELECT holder_id, state FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}
      ), attempt AS (
        INSERT INTO leader_leases AS l (name, holder_id, fence, acquired_at, renewed_at, expires_at, state)
        VALUES (${SYNC_LEADER_LEASE}, ${this.instanceId}, 1, now(), now(),
                now() + ${this.timing.leaseMs}::int * interval '1 millisecond', ${published ? JSON.stringify(published) : null}::jsonb)
        ON CONFLICT (name) DO UPDATE SET
          holder_id = EXCLUDED.holder_id,
          fence = CASE WHEN l.holder_id = EXCLUDED.holder_id AND l.fence = ${knownFence}::bigint
                         AND l.expires_at > now() THEN l.fence ELSE l.fence + 1 END,
          acquired_at = CASE WHEN l.holder_id = EXCLUDED.holder_id AND l.fence = ${knownFence}::bigint
                         AND l.expires_at > now() THEN l.acquired_at ELSE now() END,
          renewed_at = now(),
          expires_at = EXCLUDED.expires_at,
          state = COALESCE(l.state, '{}'::jsonb) || COALESCE(EXCLUDED.state, '{}'::jsonb)
        WHERE l.expires_at <= now()
           OR (l.holder_id = EXCLUDED.holder_id AND (${knownFence}::bigint IS NULL OR l.fence = ${knownFence}::bigint))
        RETURNING holder_id, fence, acquired_at, expires_at
      )
      SELECT a.holder_id, a.fence, a.acquired_at, a.expires_at, true AS held, now() AS db_now,
             (SELECT holder_id FROM prev) AS prev_holder, (SELECT state FROM prev) AS prev_state
        FROM attempt a
      UNION ALL
      SELECT p.holder_id, p.fence, p.acquired_at, p.expires_at, false, now(), p.holder_id, p.state
        FROM leader_leases p
       WHERE p.name = ${SYNC_LEADER_LEASE} AND NOT EXISTS (SELECT 1 FROM attempt)`;
    const localReceived = Date.now();
    const row = rows[0];
    // Empty when another instance's first insert committed during this statement (instances
    // booting together): the upsert waited for it and kept it, but the fallback reads this
    // statement's older snapshot, which has no row yet. The next attempt, at once, sees it.
    if (!row) return 0;
    this.dbClockOffsetMs = row.db_now.getTime() - (localSent + localReceived) / 2;
    const remainingMs = row.expires_at.getTime() - row.db_now.getTime();
    this.lastKnownHolder = row.holder_id;
    this.lastSeen = {
      holderId: row.holder_id,
      since: row.acquired_at,
      expiresAt: sentAt + remainingMs,
      state: row.held ? null : row.prev_state,
    };

    if (!row.held) {
      if (this.term) this.stepDown(`lease taken by ${row.holder_id}`);
      return nextAttemptDelayMs(this.timing, remainingMs);
    }
    if (!this.running) return this.timing.renewEveryMs;
    const deadline = sentAt + remainingMs - this.timing.safetyMarginMs;
    this.lastConfirmedAt = performance.now();
    if (this.term && this.term.fence === row.fence) {
      this.term.deadline = deadline;
    } else {
      if (this.term) this.stepDown('new term');
      this.seedLedgers(row.prev_state?.calls);
      this.term = { fence: row.fence, since: row.acquired_at, deadline };
      this.logger.log({
        msg: 'became sync leader',
        instanceId: this.instanceId,
        fence: String(row.fence),
        previousHolder: row.prev_holder,
        predecessorCallsInWindow: [...this.ledgers.values()].reduce(
          (n, l) => n + l.snapshot(this.dbNow()).length,
          0,
        ),
      });
      this.changes.next({
        leader: true,
        instanceId: this.instanceId,
        fence: String(row.fence),
        since: row.acquired_at,
      });
    }
    this.armDeadline();
    // A slow round trip (first connection, busy database) eats into the lease: renew earlier.
    return Math.max(0, Math.min(this.timing.renewEveryMs, (deadline - performance.now()) / 2));
  }

  /**
   * Past its local deadline a leader stops acting (isLeader() is false) without announcing a
   * loss: a late renewal that finds the lease still ours resumes the same term, so a stalled
   * event loop does not restart the catch-up. The loss is announced when the database shows
   * another holder or term.
   */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    if (!this.term) return;
    const ms = Math.max(0, this.term.deadline - performance.now());
    this.deadlineTimer = setTimeout(() => {
      if (this.term && performance.now() >= this.term.deadline) {
        this.logger.warn({
          msg: 'leader lease not renewed in time; not acting as leader until it is',
          instanceId: this.instanceId,
        });
      }
    }, ms + 1);
    this.deadlineTimer.unref();
  }

  private stepDown(reason: string): void {
    clearTimeout(this.deadlineTimer);
    if (!this.term) return;
    this.term = null;
    this.lastConfirmedAt = Number.NEGATIVE_INFINITY;
    this.logger.warn({ msg: 'no longer sync leader', instanceId: this.instanceId, reason });
    this.changes.next({ leader: false, instanceId: this.instanceId, reason });
  }

  private async validate(): Promise<void> {
    const term = this.term;
    if (!term) return;
    try {
      const rows = await this.prisma.$queryRaw<{ ok: boolean; holder_id: string }[]>`
        SELECT (holder_id = ${this.instanceId} AND fence = ${term.fence} AND expires_at > now()) AS ok, holder_id
          FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}`;
      if (rows[0]?.ok) {
        this.lastConfirmedAt = performance.now();
      } else if (this.term === term) {
        this.lastKnownHolder = rows[0]?.holder_id ?? null;
        this.stepDown('the database no longer shows this instance as holder');
      }
    } catch (err) {
      this.logger.warn({
        msg: 'could not confirm the leader lease; trusting it until its local deadline',
        error: (err as Error).message,
      });
    }
  }

  /** Fenced write of the call ledger: no row updated means someone else leads now. */
  private async recordCalls(term: Term): Promise<void> {
    if (this.term !== term) throw new NotLeaderError(this.instanceId, this.lastKnownHolder);
    const now = this.dbNow();
    const calls = JSON.stringify(
      Object.fromEntries([...this.ledgers].map(([fp, l]) => [fp, l.snapshot(now)])),
    );
    let updated: boolean;
    try {
      const rows = await this.prisma.$queryRaw<{ updated: boolean; holder_id: string | null }[]>`
        WITH upd AS (
          UPDATE leader_leases
             SET state = COALESCE(state, '{}'::jsonb) || jsonb_build_object('calls', ${calls}::jsonb)
           WHERE name = ${SYNC_LEADER_LEASE} AND holder_id = ${this.instanceId}
             AND fence = ${term.fence} AND expires_at > now()
          RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM upd) AS updated,
               (SELECT holder_id FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}) AS holder_id`;
      updated = rows[0]?.updated === true;
      if (!updated) this.lastKnownHolder = rows[0]?.holder_id ?? null;
    } catch (err) {
      this.logger.warn({
        msg: 'could not record a partner call in the lease row; call not made',
        error: (err as Error).message,
      });
      throw new NotLeaderError(this.instanceId, this.lastKnownHolder);
    }
    if (!updated) {
      if (this.term === term) this.stepDown('fenced: the lease row has another holder or term');
      throw new NotLeaderError(this.instanceId, this.lastKnownHolder);
    }
    this.lastConfirmedAt = performance.now();
  }

  /** A new leader starts each key's ledger from what its predecessor published for that key. */
  private seedLedgers(calls: PublishedLeaderState['calls']): void {
    const now = this.dbNow();
    for (const [fp, ledger] of this.ledgers) {
      const theirs = Array.isArray(calls) ? calls : (calls?.[fp] ?? []);
      ledger.seed(theirs, now, this.seedMarginMs);
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
