import type { AccuracyEstimate } from './accuracy/accuracy.types';
import type { LearnedRatesStatus } from './learning/learned-rates.types';
import type { WebhooksStatus } from './changes/webhooks-status';
import type { ReadCacheHealth } from './read/read-cache';
import type { LimiterState } from '../core/rate-limiter/rate-limiter.types';
import type { Horizon, HorizonName } from './policy/sync-policy';
import type { RunProgress } from './schedule/run-progress';
import type { SyncWindow } from './sync-window';

/** One recorded run of a window (GET /api/v1/experience/sync/status, the operator's page). */
export interface SyncRunSummary {
  id: number;
  window: SyncWindow;
  /** schedule | manual */
  trigger: string;
  scheduledFor: string;
  startedAt: string;
  finishedAt: string | null;
  /** running | ok | partial | failed | skipped */
  outcome: string;
  planned: number;
  succeeded: number;
  failed: number;
  /** Product-dates of the run still due and not attempted since it began (0 once finished). */
  remaining: number;
  changed: number;
  deduplicated: number;
  error: string | null;
}

export interface WindowStatus {
  window: SyncWindow;
  cron: string;
  /** First and last day offset from today that the window covers, e.g. 0..29 for daily. */
  days: { from: number; to: number };
  nextRunAt: string | null;
  running: boolean;
  /** The run going on in this process: last finished product-date, what is left, stalled. */
  progress: RunProgress | null;
  lastRun: SyncRunSummary | null;
}

/** Calls per day the schedule needs for the configured products vs what the key allows. */
export interface CapacityPlan {
  products: number;
  callsPerDayNeeded: number;
  callsPerDayWithoutDedupe: number;
  callsPerDayAllowed: number;
  /** How many products the key can keep fully in sync with this schedule. */
  maxProducts: number;
  overCapacity: boolean;
  policy: string;
  /** Calls needed ÷ calls allowed: above 1, every horizon's worst age stretches by this factor. */
  stretchFactor: number;
  /** The worst age each horizon should reach with this load (its target × the stretch). */
  expectedWorstAgeSeconds: Record<HorizonName, number>;
}

/** The due list: what still has to be fetched, per SyncPolicy horizon. */
export interface DueStatus {
  total: number;
  byHorizon: Record<HorizonName, number>;
  /** Waiting out the backoff of a failed fetch. */
  backingOff: number;
  /** Marked by a manual run (taken before anything scheduled). */
  manual: number;
  /** Since when the longest-waiting product-date is due (ISO), or null. */
  oldestDueSince: string | null;
  /** Product-dates handed to the partner budget by this instance right now. */
  inFlight: number;
  /**
   * Products whose calls failed PRODUCT_BACKOFF_AFTER times in a row across their dates: each is
   * taken one date at a time, as a probe, after `nextProbeAt`, behind the healthy products, until
   * a date of it succeeds. The longest first.
   */
  productsBackingOff: ProductBackoffStatus[];
}

export interface ProductBackoffStatus {
  productId: number;
  /** When it began backing off (ISO). */
  since: string;
  /** Failed attempts of its dates in a row. */
  consecutiveFailures: number;
  /** When its next probe may be taken (ISO). */
  nextProbeAt: string | null;
  /** The outcome of its last failure (timeout, server_error…). */
  lastOutcome: string | null;
}

export interface ProductFreshness {
  productId: number;
  /** Age in seconds of the oldest data (null: some date never synced) per SyncPolicy horizon. */
  oldestAgeSeconds: Record<HorizonName, number | null>;
}

/** The data ages of every configured product, summed up per SyncPolicy horizon. */
export interface FreshnessSummary {
  /** Configured products (SYNC_PRODUCT_IDS). */
  products: number;
  /** Products listed in `freshness` (the worst ones, at most 20). */
  listed: number;
  /**
   * When the ages (here and in `freshness`) were read: they are one reading shared by every
   * caller, kept 10 s (2 s after a change), longer at scale (a reading's computing time × 100, at
   * most 60 s: about 40–60 s at 5,000 products). Null: never read.
   */
  asOf: string | null;
  byHorizon: Record<
    HorizonName,
    {
      /** Seconds since the least recently synced stored date of the horizon; null: none stored. */
      oldestAgeSeconds: number | null;
      /** Products with at least one date of the horizon never synced successfully. */
      productsNeverSynced: number;
      /** Products with at least one stored date of the horizon older than its target. */
      productsOverTarget: number;
    }
  >;
}

/** The answer of GET /api/v1/experience/sync/status. */
export interface SyncStatus {
  paused: boolean;
  pausedSince: string | null;
  pausedBy: string | null;
  timeZone: string;
  today: string;
  /** Whether pause/resume/run need `Authorization: Bearer <ADMIN_TOKEN>` (false: demo without one). */
  control: { tokenRequired: boolean };
  instance: { id: string; leader: boolean };
  leader: { id: string; since: string } | null;
  windows: WindowStatus[];
  /** The SyncPolicy: each horizon's days, the windows covering it and its target age. */
  horizons: Horizon[];
  /**
   * The value rule's plan (README, Sync engine): SYNC_BUDGET_SHARE, each horizon's floor (its
   * hard maximum age), and the work as last ranked on this instance: when, how long the rank
   * took, how many minutes of floor deadlines are forced now, each list's entries (ranked, left)
   * and the next product-dates in the order they would go, with why (`floor`: its floor runs
   * out; `never`: due and never synced; `value`: the highest value of a call; `due`: marked by a
   * window, no value learned yet). Only the leader ranks: elsewhere `rankedAt` is null.
   */
  plan: PlanStatus;
  recentRuns: SyncRunSummary[];
  limiter: LimiterState;
  capacity: CapacityPlan;
  due: DueStatus;
  /**
   * The products whose oldest data is the worst relative to the horizon targets (a never-synced
   * date first), worst first, at most 20 (every product when there are no more); per-product
   * detail of all of them: GET /sync/freshness (paged, or `?productId=`).
   */
  freshness: ProductFreshness[];
  freshnessSummary: FreshnessSummary;
  /**
   * The live accuracy estimate (change rate per horizon from the syncs' observations, expected
   * share of reads served fresh, the last 24 h); null while the database never answered it.
   */
  accuracy: AccuracyEstimate | null;
  /**
   * What the value rule learned, per horizon (README, Learned rates): the mean learned change
   * rate of its product-dates, their read demand, and the expected share of their reads served
   * fresh weighted by the reads; with this instance's read counter. Null while the database never
   * answered it.
   */
  learned: LearnedRatesStatus | null;
  /**
   * The webhook subscriptions (issue 27): how many are enabled and disabled, how many enabled ones
   * are failing, messages waiting and given up on, the oldest undelivered message's age, and each
   * disabled subscription's reason and last error (its URL's origin only, no secret). Read from
   * the database with the other parts (degraded: as of dataAsOf); null without the change feed.
   */
  webhooks: WebhooksStatus | null;
  /**
   * True while the database cannot answer: the parts read from it (windows' last runs, recent
   * runs, freshness) are this instance's last good reading, as of `dataAsOf` (empty if none);
   * the rest (pause state last seen, leader, queue, budget) is what the process knows now.
   */
  degraded: boolean;
  /** When the database parts were read (ISO); null when this instance never could. */
  dataAsOf: string | null;
  /**
   * This instance's read cache: `mode` redis (REDIS_URL) or local; with Redis, `shared.state`
   * degraded while reads skip it (down, or its breaker open) and use the in-process cache and the
   * database instead, with the breaker, since when, and invalidations not yet applied to it.
   */
  readCache: ReadCacheHealth;
}

/** See SyncStatus.plan. */
export interface PlanStatus {
  budgetShare: number;
  floorSeconds: Record<HorizonName, number>;
  rankedAt: string | null;
  rankMs: number | null;
  forcedMinutes: number;
  lists: Record<'floor' | 'never' | 'value' | 'due', { ranked: number; left: number }>;
  next: Array<{
    productId: number;
    date: string;
    why: 'floor' | 'never' | 'value' | 'due';
    /** Reads a sync now is expected to turn from stale to fresh (read rate/s × s). */
    value: number;
    deadline: string;
    changeRatePerHour: number;
    readsPerHour: number;
  }>;
}
