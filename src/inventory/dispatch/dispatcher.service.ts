import { Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { RateLimiterService } from '../../core/rate-limiter/rate-limiter.service';
import type { JobPriority } from '../../core/rate-limiter/rate-limiter.types';
import { addDays, daysBetween, todayIn } from '../calendar';
import { SyncControlService } from '../control/sync-control.service';
import { productDateKey, type DueEntry } from '../due/due-list';
import { DueListRepository } from '../due/due-list.repository';
import { ValueRankRepository } from '../due/value-rank.repository';
import {
  FLOOR_PACE,
  floorForcedBuckets,
  floorSeconds,
  valueRuleTiming,
} from '../policy/call-value';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import type { HorizonName, SyncPolicy } from '../policy/sync-policy';
import { InjectLeadership, type Leadership } from '../schedule/leadership';
import { priorityForOffset } from '../schedule/windows';
import { SyncService } from '../sync/sync.service';
import { WorkPlan, type WorkPlanSnapshot } from './work-plan';

/**
 * How often an idle dispatcher looks at the due list (marks by another instance, backoffs, a
 * window's spare room): at most this, less with a shorter partner window (valueRuleTiming).
 */
export const DISPATCH_POLL_MS = 1000;
/** A due list that cannot be read (database away) is retried after this, growing to the max. */
const READ_RETRY_MS = 1000;
const READ_RETRY_MAX_MS = 15_000;
/** After a job came back "not attempted" (a guard refused it), wait this long before the next. */
const SKIP_PAUSE_MS = 250;
/**
 * On the embedded database (one connection, shared with the reads) a rank of every row takes
 * seconds past this many product-dates and holds the reads up: above it the urgency order alone
 * decides (README, the embedded database and its limits).
 */
export const EMBEDDED_RANK_MAX_PRODUCT_DATES = 60_000;
/** A rank may take at most 1 ÷ this of the time between ranks. */
const RANK_COST_RATIO = 10;

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
  private readonly plan = new WorkPlan();
  /** The value rule's clock at the partner's window (valueRuleTiming). */
  private readonly timing: ReturnType<typeof valueRuleTiming>;
  private rerankMs: number;
  private readonly pollMs: number;
  /** The day the plan was ranked for: a new day moves every date one horizon nearer. */
  private rankedFor = '';
  /** The embedded database with more product-dates than it can rank (EMBEDDED_RANK_MAX_PRODUCT_DATES). */
  private readonly urgencyOnly: boolean;
  /** A rank running in the background (rankInBackground). */
  private ranking: Promise<void> | null = null;
  /** When manual marks and probes were last asked for, and whether more may be waiting. */
  private urgentAskedAt = -Infinity;
  private urgentHint = true;
  private readonly floors: Record<HorizonName, number>;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly dueList: DueListRepository,
    private readonly valueRank: ValueRankRepository,
    private readonly sync: SyncService,
    private readonly control: SyncControlService,
    private readonly limiter: RateLimiterService,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    @InjectLeadership() private readonly leadership: Leadership,
  ) {
    this.floors = floorSeconds(policy);
    this.urgencyOnly =
      config.database.url === undefined &&
      config.sync.productIds.length * (policy.lastDay + 1) > EMBEDDED_RANK_MAX_PRODUCT_DATES;
    if (this.urgencyOnly) {
      this.logger.warn({
        msg: 'the value rule is off on the embedded database at this many product-dates: the urgency order decides (use PostgreSQL)',
        productDates: config.sync.productIds.length * (policy.lastDay + 1),
        max: EMBEDDED_RANK_MAX_PRODUCT_DATES,
      });
    }
    this.timing = valueRuleTiming(this.limiter.options.windowMs);
    this.rerankMs = this.timing.rerankMs;
    this.pollMs = Math.min(DISPATCH_POLL_MS, this.timing.pollMs);
    // A key back in rotation (hold over, probe due, breaker half-open) is a turn to take now.
    this.limiter.observe({ keysChanged: () => this.wake() });
  }

  /** The value rule's plan as last ranked (on the leader; empty elsewhere). */
  planSnapshot(): WorkPlanSnapshot {
    return this.plan.snapshot();
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

  /** A mark was made: the next turn ranks afresh (the marked dates join the plan), now. */
  marked(): void {
    this.plan.clear();
    this.urgentHint = true;
    this.wake();
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
        // A rank is only as good as the moment it was made: a new term or a resume ranks afresh.
        if (!this.mayDispatch()) this.plan.clear();
        await this.sleep(this.pollMs);
        continue;
      }
      // A mark going on here: its batches go first (on the embedded database's one connection a
      // due-list read between two of them holds up the mark, and with it a manual run's answer);
      // the mark wakes the dispatcher when it is done.
      if (this.dueList.marking) {
        await this.sleep(this.pollMs);
        continue;
      }
      if (Date.now() - this.skippedAt < SKIP_PAUSE_MS) {
        await delay(SKIP_PAUSE_MS);
        continue;
      }
      const today = todayIn(this.config.sync.timeZone);
      let entries: DueEntry[];
      try {
        entries = await this.nextWork(free, today);
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
        await this.sleep(this.pollMs);
        continue;
      }
      // Re-check: a pause or a lost lease may have come while the list was read.
      if (!this.mayDispatch()) continue;
      for (const entry of entries) this.dispatch(entry, today);
    }
  }

  /**
   * Up to `free` product-dates to hand over now, in the rule's order: manual marks and the
   * probes of backing-off products whose turn has come (the due list); then the value rule's plan
   * (the floor's rows, and with spare room the calls of highest value); then, with spare room
   * left, the probes still waiting behind the healthy products.
   */
  private async nextWork(free: number, today: string): Promise<DueEntry[]> {
    const exclude = [...this.inFlight.keys()];
    if (this.urgencyOnly || !Number.isFinite(this.plan.rankedAt)) {
      // The due list's urgency order (manual runs first, probes behind), one statement: on the
      // embedded database above EMBEDDED_RANK_MAX_PRODUCT_DATES always; otherwise while no plan
      // is ranked yet (boot, a new term, a mark), the rank being made in the background, so the
      // first calls never wait for a rank of every row.
      const due = await this.dueList.nextDue(this.dueScope(free, today, exclude));
      if (!this.urgencyOnly) this.rankInBackground(today);
      return due;
    }
    // Manual marks and probes are few: asked for after a mark here, while they keep coming, and
    // otherwise once per poll (another instance's manual run, a probe's wait running out), not
    // on every turn of a busy key.
    let urgent: DueEntry[] = [];
    if (this.urgentHint || Date.now() - this.urgentAskedAt >= this.pollMs) {
      this.urgentAskedAt = Date.now();
      urgent = await this.dueList.nextDue({
        ...this.dueScope(free, today, exclude),
        scheduled: false,
      });
      this.urgentHint = urgent.some((e) => e.manual || !e.behind);
    }
    const out = urgent.filter((e) => e.manual || !e.behind);
    const behind = urgent.filter((e) => !e.manual && e.behind);
    const taken = new Set(out.map((e) => productDateKey(e.productId, e.date)));
    const busy = (key: string): boolean => this.inFlight.has(key) || taken.has(key);
    let spare = this.limiter.spareRoom(this.config.sync.budgetShare);
    if (out.length < free) {
      const now = Date.now();
      if (now - this.plan.rankedAt >= this.rerankMs || this.rankedFor !== today) {
        await this.rank(today, exclude);
      }
      let planned = this.plan.take(free - out.length, spare, busy);
      // Used up before the next rank: rank again, at most every timing.usedUpMs.
      if (
        planned.length === 0 &&
        this.plan.usedUp(spare > 0) &&
        Date.now() - this.plan.rankedAt >= this.timing.usedUpMs
      ) {
        await this.rank(today, exclude);
        planned = this.plan.take(free - out.length, spare, busy);
      }
      spare -= planned.filter((e) => e.why !== 'floor').length;
      out.push(...planned);
    }
    for (const probe of behind) {
      if (out.length >= free || spare <= 0) break;
      out.push(probe);
      spare--;
    }
    return out;
  }

  /** The due list's scope for this turn: the configured products, today .. today + lastDay. */
  private dueScope(limit: number, today: string, exclude: string[]) {
    return {
      limit,
      productIds: this.config.sync.productIds,
      from: today,
      to: addDays(today, this.policy.lastDay),
      policy: this.policy,
      exclude,
    };
  }

  /** One rank at a time in the background; a failure is logged and the next turn tries again. */
  private rankInBackground(today: string): void {
    if (this.ranking) return;
    this.ranking = this.rank(today, [...this.inFlight.keys()])
      .catch((err: unknown) => {
        this.logger.warn({ msg: 'could not rank the work', error: (err as Error).message });
      })
      .finally(() => {
        this.ranking = null;
        this.wake();
      });
  }

  /** Ranks the work by value (ValueRankRepository), its cost bounded by growing its interval. */
  private async rank(today: string, exclude: string[]): Promise<void> {
    const started = Date.now();
    const { limit, windowMs } = this.limiter.options;
    const keys = Math.max(1, this.limiter.usable().length);
    const input = {
      productIds: this.config.sync.productIds,
      from: today,
      policy: this.policy,
      floors: this.floors,
      exclude,
      readHalfLifeSeconds: this.config.learning.readHalfLifeMs / 1000,
      bucketMs: this.timing.bucketMs,
    };
    const buckets = await this.valueRank.deadlineBuckets(input);
    const forcedBuckets = floorForcedBuckets(
      buckets,
      (FLOOR_PACE * keys * limit) / windowMs,
      this.timing.marginMs,
      this.timing.bucketMs,
    );
    // Twice the calls the keys can make before the next rank, per list (as the model ranks).
    const perList = Math.max(16, Math.ceil((keys * limit * this.rerankMs) / windowMs) * 2);
    const entries = await this.valueRank.rank({ ...input, forcedBuckets, limit: perList });
    const rankMs = Date.now() - started;
    this.plan.load(entries, Date.now(), { rankMs, forcedBuckets });
    this.rankedFor = today;
    // A rank costing more than a tenth of its interval (many products) ranks less often.
    this.rerankMs = Math.max(this.timing.rerankMs, rankMs * RANK_COST_RATIO);
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
