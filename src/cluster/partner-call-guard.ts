import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { keyFingerprint } from '../core/rate-limiter/partner-keys';
import type { LeaderLeaseRepository, PublishedLeaderState } from './leader-lease.repository';
import type { LeaderTerm } from './leader-term';
import { PartnerCallLedger } from './partner-call-ledger';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The start guard of every partner call, with one call ledger per key (each key has its own
 * budget): a call may go out only after it fits the key's cluster-wide window (including calls of
 * a predecessor in this window) and was recorded in the lease row with a fenced write. So a
 * leader that lost the lease — paused process, lost network, restarted with the same id — cannot
 * spend the key's budget, and a new leader does not spend a window twice.
 */
export class PartnerCallGuard {
  private readonly logger = new Logger(PartnerCallGuard.name);
  private readonly ledgers = new Map<string, PartnerCallLedger>();
  private readonly seedMarginMs: number;
  private recordChain: Promise<unknown> = Promise.resolve();

  constructor(
    partner: AppConfig['partner'],
    private readonly repository: LeaderLeaseRepository,
    private readonly term: LeaderTerm,
  ) {
    for (const key of partner.apiKeys) {
      this.ledgers.set(
        keyFingerprint(key),
        new PartnerCallLedger(partner.rateLimit, partner.rateWindowMs),
      );
    }
    // A predecessor's call reached the partner a little after it was recorded.
    this.seedMarginMs = Math.min(250, Math.max(50, Math.floor(partner.rateWindowMs / 10)));
  }

  /**
   * Leader or throw, then wait until the ledger of the call's key has room, then record the call
   * with a fenced write. Only after the write succeeded may the call go out.
   */
  async beforePartnerCall(fingerprint: string): Promise<void> {
    this.term.requireLeader();
    const ledger = this.ledgers.get(fingerprint);
    if (!ledger) throw new Error(`no call ledger for key ${fingerprint}`);
    let reserved = await this.reserveCall(ledger);
    for (let attempt = 0; ; attempt++) {
      const fence = this.term.currentFence();
      if (fence === null) throw this.term.notLeader();
      const write = this.recordChain.then(() => this.recordCalls(fence));
      this.recordChain = write.catch(() => undefined);
      await write;
      // The fenced write takes a variable while (a busy database, a loaded machine): the call
      // goes out now, so it must fit the window now, or the partner would see calls bunched.
      ledger.remove(reserved);
      const waited = ledger.waitMs(this.term.dbNow()) > 0;
      reserved = await this.reserveCall(ledger);
      if (!waited || attempt >= 2) return;
    }
  }

  /**
   * A new term starts each key's ledger from what its predecessor published for that key.
   * Returns how many calls of the current windows it starts with.
   */
  startTerm(calls: PublishedLeaderState['calls']): number {
    const now = this.term.dbNow();
    let inWindow = 0;
    for (const [fp, ledger] of this.ledgers) {
      const theirs = Array.isArray(calls) ? calls : (calls?.[fp] ?? []);
      ledger.seed(theirs, now, this.seedMarginMs);
      inWindow += ledger.snapshot(now).length;
    }
    return inWindow;
  }

  /** Waits until one more call fits the cluster-wide window, then records it (atomically). */
  private async reserveCall(ledger: PartnerCallLedger): Promise<number> {
    for (;;) {
      this.term.requireLeader();
      const now = this.term.dbNow();
      const wait = ledger.waitMs(now);
      if (wait === 0) {
        ledger.record(now);
        return now;
      }
      await sleep(Math.min(wait, 250));
    }
  }

  /** Fenced write of the call ledgers: no row updated means someone else leads now. */
  private async recordCalls(fence: bigint): Promise<void> {
    if (this.term.currentFence() !== fence) throw this.term.notLeader();
    const now = this.term.dbNow();
    const calls = Object.fromEntries([...this.ledgers].map(([fp, l]) => [fp, l.snapshot(now)]));
    let result: { updated: boolean; holderId: string | null };
    try {
      result = await this.repository.recordCalls(this.term.instanceId, fence, calls);
    } catch (err) {
      this.logger.warn({
        msg: 'could not record a partner call in the lease row; call not made',
        error: (err as Error).message,
      });
      throw this.term.notLeader();
    }
    if (!result.updated) {
      throw this.term.fencedOut(
        fence,
        result.holderId,
        'fenced: the lease row has another holder or term',
      );
    }
    this.term.confirmed();
  }
}
