import { Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { RateLimiterService } from '../../core/rate-limiter/rate-limiter.service';
import type { JobPriority } from '../../core/rate-limiter/rate-limiter.types';
import { addDays, daysBetween, todayIn } from '../calendar';
import { SyncControlService } from '../control/sync-control.service';
import { productDateKey, type DueEntry } from '../due/due-list';
import { DueListRepository } from '../due/due-list.repository';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import { PREFETCH_MIN_FRACTION, type SyncPolicy } from '../policy/sync-policy';
import { InjectLeadership, type Leadership } from '../schedule/leadership';
import { priorityForOffset } from '../schedule/windows';
import { SyncService } from '../sync/sync.service';

/** How often an idle dispatcher looks at the due list (marks by another instance, backoffs). */
export const DISPATCH_POLL_MS = 1000;
/** A due list that cannot be read (database away) is retried after this, growing to the max. */
const READ_RETRY_MS = 1000;
const READ_RETRY_MAX_MS = 15_000;
/** After a job came back "not attempted" (a guard refused it), wait this long before the next. */
const SKIP_PAUSE_MS = 250;

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The limiter's priority of a date: only orders the few jobs the dispatcher has handed over. */
function priorityOf(entry: DueEntry, today: string): JobPriority {
  return entry.manual ? 'today' : priorityForOffset(daysBetween(today, entry.date));
}

/**
 * The sync leader's engine: whenever the budget can take another call it takes the most urgent
 * due product-date from PostgreSQL (the policy's order), fetches and stores it; the store clears
 * the due mark in the same transaction. It hands the limiter at most what its keys in rotation
 * can take (each key its next few turns, so a turn never waits for the database; calls in flight
 * that hang take none),
 * which is all the in-memory queue there is: pause, shutdown or a lost lease drop only those, and
 * they stay due. With no key in rotation it sleeps until the limiter says one is back.
 */
@Injectable()
export class DispatcherService {
  private readonly logger = new Logger(DispatcherService.name);
  private readonly inFlight = new Map<string, Promise<void>>();
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  /** A wake that came while the loop was busy: the next sleep returns at once. */
  private woken = false;
  private readFailures = 0;
  /** Set when a handed-over job came back "not attempted" (pause, fencing): breathe, don't spin. */
  private skippedAt = 0;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly dueList: DueListRepository,
    private readonly sync: SyncService,
    private readonly control: SyncControlService,
    private readonly limiter: RateLimiterService,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    @InjectLeadership() private readonly leadership: Leadership,
  ) {
    // A key back in rotation (hold over, probe due, breaker half-open) is a turn to take now.
    this.limiter.observe({ keysChanged: () => this.wake() });
  }

  /** Product-dates handed to the limiter and not yet stored or given up. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.run().catch((err: unknown) => {
      this.logger.error({ msg: 'dispatcher stopped', error: (err as Error).message });
    });
  }

  /** Something changed (a mark, a resume, a finished call): look at the due list now. */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  /** Stops taking work; in-flight calls finish (the limiter's drain decides for how long). */
  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Resolves when every product-date handed over has settled (stored, failed or given back). */
  async settled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.allSettled([...this.inFlight.values()]).then(() => true);
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return done;
  }

  private mayDispatch(): boolean {
    if (this.stopped || this.control.isPaused()) return false;
    return this.leadership.isLeader();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Zero while every key is held, rejected or has its breaker open: sleep until one is back.
      const free = this.limiter.capacity();
      if (!this.mayDispatch() || free <= 0) {
        await this.sleep(DISPATCH_POLL_MS);
        continue;
      }
      // A mark going on here: its batches go first (on the embedded database's one connection a
      // due-list read between two of them holds up the mark, and with it a manual run's answer);
      // the mark wakes the dispatcher when it is done.
      if (this.dueList.marking) {
        await this.sleep(DISPATCH_POLL_MS);
        continue;
      }
      if (Date.now() - this.skippedAt < SKIP_PAUSE_MS) {
        await delay(SKIP_PAUSE_MS);
        continue;
      }
      const today = todayIn(this.config.sync.timeZone);
      let entries: DueEntry[];
      const scope = {
        limit: free,
        productIds: this.config.sync.productIds,
        from: today,
        to: addDays(today, this.policy.lastDay),
        exclude: [...this.inFlight.keys()],
      };
      try {
        entries = await this.dueList.nextDue({ ...scope, policy: this.policy });
        // Nothing due: with SYNC_PREFETCH the idle turn refreshes the date nearest its target.
        if (entries.length === 0 && this.config.sync.prefetch.enabled) {
          entries = await this.dueList.nextStale({
            ...scope,
            policy: this.policy,
            minFraction: PREFETCH_MIN_FRACTION,
          });
        }
        if (this.readFailures > 0) {
          this.logger.log({ msg: 'due list readable again', failures: this.readFailures });
        }
        this.readFailures = 0;
      } catch (err) {
        // Without the database nothing could be stored: take no budget turn until it is back.
        this.readFailures++;
        if (this.readFailures === 1) {
          this.logger.warn({ msg: 'cannot read the due list', error: (err as Error).message });
        }
        await this.sleep(Math.min(READ_RETRY_MAX_MS, READ_RETRY_MS * 2 ** this.readFailures));
        continue;
      }
      if (entries.length === 0) {
        await this.sleep(DISPATCH_POLL_MS);
        continue;
      }
      // Re-check: a pause or a lost lease may have come while the list was read.
      if (!this.mayDispatch()) continue;
      for (const entry of entries) this.dispatch(entry, today);
    }
  }

  private dispatch(entry: DueEntry, today: string): void {
    const key = productDateKey(entry.productId, entry.date);
    const work = this.sync
      .syncProductDate(entry.productId, entry.date, priorityOf(entry, today))
      .then((result) => {
        if (result.outcome === 'skipped') this.skippedAt = Date.now();
      })
      .catch((err: unknown) => {
        // syncProductDate records its own failures; this is a bug guard, the entry stays due.
        this.logger.error({ msg: 'dispatch failed', key, error: (err as Error).message });
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.wake();
      });
    this.inFlight.set(key, work);
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }
}
