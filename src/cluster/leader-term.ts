import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { BehaviorSubject, type Observable } from 'rxjs';
import { NotLeaderError } from './not-leader.error';

export type LeadershipChange =
  | { leader: true; instanceId: string; fence: string; since: Date }
  | { leader: false; instanceId: string; reason: string };

interface Term {
  fence: bigint;
  since: Date;
  /** performance.now() after which this process no longer trusts its lease. */
  deadline: number;
}

/**
 * The leadership this process may act on: the term it holds (fence, since, local deadline), what
 * the database last told it, and the events of gaining and losing it. LeaderLeaseService moves it
 * with each lease statement; PartnerCallGuard checks it before every partner call.
 */
export class LeaderTerm {
  private readonly logger = new Logger(LeaderTerm.name);
  private term: Term | null = null;
  private readonly changes: BehaviorSubject<LeadershipChange>;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private lastConfirmedAt = Number.NEGATIVE_INFINITY;
  /** The holder the database last showed (named in NotLeaderError). */
  private lastKnownHolder: string | null = null;
  /** Database clock minus local clock, measured at each lease statement. */
  private dbClockOffsetMs = 0;

  constructor(readonly instanceId: string) {
    this.changes = new BehaviorSubject<LeadershipChange>({
      leader: false,
      instanceId,
      reason: 'starting',
    });
  }

  get leadership$(): Observable<LeadershipChange> {
    return this.changes.asObservable();
  }

  /** True while this process holds the lease by its own (conservative) clock. */
  isLeader(): boolean {
    return this.term !== null && performance.now() < this.term.deadline;
  }

  /** The term's fence and start while leader, else null. */
  leading(): { fence: bigint; since: Date } | null {
    return this.isLeader() ? this.term : null;
  }

  /** The fence of the term this process is in, even past its local deadline (null: none). */
  currentFence(): bigint | null {
    return this.term?.fence ?? null;
  }

  requireLeader(): void {
    if (!this.isLeader()) throw this.notLeader();
  }

  notLeader(): NotLeaderError {
    return new NotLeaderError(this.instanceId, this.lastKnownHolder);
  }

  /** The database clock, epoch ms, as measured at the last lease statement. */
  dbNow(): number {
    return Date.now() + this.dbClockOffsetMs;
  }

  /** A lease statement answered with the database clock `dbNow` between the two local times. */
  measureClock(dbNow: Date, localSent: number, localReceived: number): void {
    this.dbClockOffsetMs = dbNow.getTime() - (localSent + localReceived) / 2;
  }

  sawHolder(holderId: string | null): void {
    this.lastKnownHolder = holderId;
  }

  /** The database showed the lease as ours just now. */
  confirmed(): void {
    this.lastConfirmedAt = performance.now();
  }

  confirmedWithin(ms: number): boolean {
    return performance.now() - this.lastConfirmedAt < ms;
  }

  /** Renewed term `fence` until `deadline`: true if that continues the current term. */
  extend(fence: bigint, deadline: number): boolean {
    if (!this.term || this.term.fence !== fence) return false;
    this.term.deadline = deadline;
    this.armDeadline();
    return true;
  }

  /** A new term was taken (any previous one has been stepped down from). */
  begin(fence: bigint, since: Date, deadline: number): void {
    this.term = { fence, since, deadline };
    this.changes.next({ leader: true, instanceId: this.instanceId, fence: String(fence), since });
    this.armDeadline();
  }

  /** A fenced write or check found another holder or term: steps down if still in term `fence`. */
  fencedOut(fence: bigint, holderId: string | null, reason: string): NotLeaderError {
    this.lastKnownHolder = holderId;
    if (this.term?.fence === fence) this.stepDown(reason);
    return this.notLeader();
  }

  stepDown(reason: string): void {
    clearTimeout(this.deadlineTimer);
    if (!this.term) return;
    this.term = null;
    this.lastConfirmedAt = Number.NEGATIVE_INFINITY;
    this.logger.warn({ msg: 'no longer sync leader', instanceId: this.instanceId, reason });
    this.changes.next({ leader: false, instanceId: this.instanceId, reason });
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
}
