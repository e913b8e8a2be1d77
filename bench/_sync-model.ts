/**
 * A deterministic model of one partner key under the sync schedule, in virtual time: cron
 * firings from the real window math, a sliding-window limiter (limit per windowMs, fixed call
 * latency, bounded concurrency) and the partner's own sliding-window count of what it received.
 * Two policies: the service's (windows firing together share product-dates, a product-date
 * queued or in flight is not queued again, priorities today > week > later, a window whose
 * previous run is still going is skipped) and the seed's (three independent windows, every
 * product-date queued each time, one FIFO queue). `simulateDueList` models the due list and its
 * dispatcher on the same limiter and partner, with several keys, pauses and kills.
 */
import { CronTime } from 'cron';
import type { JobPriority } from '../src/core/rate-limiter/rate-limiter.types';
import { addDays, todayIn } from '../src/inventory/calendar';
import { callsPerProduct, planStretch } from '../src/inventory/schedule/capacity-plan';
import { cronOf, planWindow, type WindowCrons } from '../src/inventory/schedule/windows';
import {
  buildSyncPolicy,
  compareUrgency,
  HORIZON_NAMES,
  urgency,
  horizonForDay,
  isOverdue,
  type SyncPolicy,
  type UrgencyFacts,
} from '../src/inventory/policy/sync-policy';
import { rankedSinceMs, stretched } from '../src/inventory/policy/urgency-score';
import {
  floorForcedBuckets,
  valueRuleTiming,
  type DeadlineBucket,
} from '../src/inventory/policy/call-value';
import type { SyncWindow } from '../src/inventory/sync-window';

/**
 * The urgency policy's idle-time prefetch (retired from the service by the value rule; kept
 * here as the "before" of the benches): a turn with nothing due went to the not-due date with
 * the highest age ÷ target, from half of it, by default only with more than one key.
 */
export const PREFETCH_MIN_FRACTION = 0.5;
export const urgencyPrefetch = (keys: number): { minFraction: number } | undefined =>
  keys > 1 ? { minFraction: PREFETCH_MIN_FRACTION } : undefined;

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** The design card's crons, as every sync-day bench runs them (UTC). */
export const DEFAULT_CRONS: WindowCrons = {
  daily: '0 0 * * *',
  fourHourly: '0 */4 * * *',
  quarterHourly: '*/15 * * * *',
  extended: '0 1 * * 0',
};
/** The measured day of the sync-day benches: Sunday 2025-04-06 (UTC), the extended window's day. */
export const MEASURED_DAY = Date.parse('2025-04-06T00:00:00Z');
/**
 * One run as the sync-day benches model it: the partner's 30 starts per sliding 60 s per key, 2
 * calls in flight, 300 ms each; ages sampled every 15 min over one measured day.
 */
export const MODEL_RUN = {
  crons: DEFAULT_CRONS,
  timeZone: 'UTC',
  limit: 30,
  windowMs: 60_000,
  latencyMs: 300,
  concurrency: 2,
  measureMs: DAY,
  sampleEveryMs: 15 * MIN,
} as const;

export type Policy = 'service' | 'seed';

export interface ModelOptions {
  products: number;
  policy: Policy;
  crons: WindowCrons;
  windows: readonly SyncWindow[];
  timeZone: string;
  limit: number;
  windowMs: number;
  latencyMs: number;
  concurrency: number;
  start: Date;
  warmupMs: number;
  measureMs: number;
  sampleEveryMs: number;
}

export type AgeRange = 'today' | 'days 1-6' | 'days 7-29' | 'days 30-59';
export const AGE_RANGES: readonly AgeRange[] = ['today', 'days 1-6', 'days 7-29', 'days 30-59'];

export interface ModelResult {
  /** Partner calls the schedule asked for per product in the measured day (after dedupe). */
  wantedPerProductPerDay: number;
  callsInMeasuredDay: number;
  callsPerProductPerDay: number;
  /** Calls per product per day over the last 7 days of the run (the extended window is weekly). */
  callsPerProductPerDayWeek: number;
  partner429s: number;
  busiestWindow: number;
  utilization: number;
  skippedRuns: number;
  peakQueue: number;
  endQueue: number;
  /** Seconds: p50/p95/max of data age per range of dates, sampled over the measured day. */
  ages: Record<AgeRange, { p50: number; p95: number; max: number }>;
  /**
   * The same without hand-over samples: a date whose data was fetched before the midnight that
   * moved it into its range (at 00:00 today's data is what was fetched for "tomorrow", under
   * tomorrow's target) until its first fetch in the new range.
   */
  settledAges: Record<AgeRange, { p50: number; p95: number; max: number }>;
}

interface Job {
  key: string;
  productId: number;
  date: string;
  priority: JobPriority;
  windows: Set<number>;
  dead?: boolean;
}

const RANK: Record<JobPriority, number> = { today: 0, week: 1, later: 2 };

function rangeOf(offset: number): AgeRange | null {
  if (offset === 0) return 'today';
  if (offset <= 6) return 'days 1-6';
  if (offset <= 29) return 'days 7-29';
  if (offset <= 59) return 'days 30-59';
  return null;
}

/** A FIFO with O(1) push/shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  push(v: T): void {
    this.items.push(v);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
  get length(): number {
    return this.items.length - this.head;
  }
}

function firings(cron: string, timeZone: string, from: number, to: number): number[] {
  const time = new CronTime(cron, timeZone);
  const out: number[] = [];
  let at = time.getNextDateFrom(new Date(from - 1), timeZone);
  while (at.toMillis() < to) {
    out.push(at.toMillis());
    at = time.getNextDateFrom(at, timeZone);
  }
  return out;
}

/** The last day offset the dates API shows (today + 59). */
const LAST_DAY = 59;

/**
 * When the date `day` days after the first today came into the dates API's range (as today + 59),
 * or the start: a date never synced is as old as that. `midnights` are the day changes after t0.
 */
function shownSince(midnights: readonly number[], t0: number, day: number): number {
  const i = day - LAST_DAY - 1;
  return i < 0 ? t0 : midnights[Math.min(i, midnights.length - 1)];
}

/** The last day offset of each age range: a date enters a range there, coming from farther out. */
const RANGE_ENTRY: Record<AgeRange, number> = {
  today: 0,
  'days 1-6': 6,
  'days 7-29': 29,
  'days 30-59': 59,
};

/** When the date `day` (index from the first today), now in `range`, entered it. */
function enteredRangeAt(
  midnights: readonly number[],
  t0: number,
  day: number,
  range: AgeRange,
): number {
  const i = day - RANGE_ENTRY[range] - 1;
  return i < 0 ? t0 : midnights[Math.min(i, midnights.length - 1)];
}

type Samples = Record<AgeRange, number[]>;
const emptySamples = (): Samples => ({
  today: [],
  'days 1-6': [],
  'days 7-29': [],
  'days 30-59': [],
});

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summarize(samples: Samples): ModelResult['ages'] {
  const ages = {} as ModelResult['ages'];
  for (const r of AGE_RANGES) {
    const sorted = Float64Array.from(samples[r]).sort();
    ages[r] = {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      max: sorted[sorted.length - 1] ?? 0,
    };
  }
  return ages;
}

export function simulateDay(o: ModelOptions): ModelResult {
  const t0 = o.start.getTime();
  const end = t0 + o.warmupMs + o.measureMs;
  const measureFrom = t0 + o.warmupMs;
  const products = Array.from({ length: o.products }, (_, i) => i + 1);

  // Firings grouped by instant: windows firing together are handled together.
  const ticks = new Map<number, SyncWindow[]>();
  for (const w of o.windows) {
    for (const at of firings(cronOf(w, o.crons), o.timeZone, t0, end)) {
      ticks.set(at, [...(ticks.get(at) ?? []), w]);
    }
  }
  const tickTimes = [...ticks.keys()].sort((a, b) => a - b);

  const queues: Record<JobPriority, Fifo<Job>> = {
    today: new Fifo(),
    week: new Fifo(),
    later: new Fifo(),
  };
  const live = new Map<string, Job>();
  let queued = 0;
  let peakQueue = 0;
  const starts: number[] = [];
  let startsHead = 0;
  const partnerSeen: number[] = [];
  let partnerHead = 0;
  let partner429s = 0;
  let busiest = 0;
  let callsMeasured = 0;
  let callsWeek = 0;
  const weekFrom = end - 7 * 86_400_000;
  let wantedMeasured = 0;
  let running: Array<{ at: number; job: Job }> = [];
  const lastSuccess = new Map<string, number>();
  // Run bookkeeping: window → outstanding jobs of its current run.
  let runSeq = 0;
  const runOutstanding = new Map<number, number>();
  const runOfWindow = new Map<SyncWindow, number>();
  let skippedRuns = 0;
  const samples = emptySamples();
  const settled = emptySamples();

  const enqueue = (productId: number, date: string, priority: JobPriority, run: number): void => {
    const key = `${productId}:${date}`;
    const existing = o.policy === 'service' ? live.get(key) : undefined;
    if (existing) {
      existing.windows.add(run);
      runOutstanding.set(run, (runOutstanding.get(run) ?? 0) + 1);
      if (RANK[priority] < RANK[existing.priority] && !existing.dead) {
        // Promote: the queued entry moves up (the old one is left behind as dead).
        const moved: Job = { ...existing, priority };
        existing.dead = true;
        live.set(key, moved);
        queues[priority].push(moved);
      }
      return;
    }
    const job: Job = { key, productId, date, priority, windows: new Set([run]) };
    if (now >= measureFrom) wantedMeasured++;
    if (o.policy === 'service') live.set(key, job);
    runOutstanding.set(run, (runOutstanding.get(run) ?? 0) + 1);
    queues[o.policy === 'service' ? priority : 'later'].push(job);
    queued++;
    peakQueue = Math.max(peakQueue, queued);
  };

  const finish = (job: Job, at: number): void => {
    lastSuccess.set(job.key, at);
    if (o.policy === 'service') live.delete(job.key);
    for (const run of job.windows) {
      const left = (runOutstanding.get(run) ?? 1) - 1;
      if (left <= 0) runOutstanding.delete(run);
      else runOutstanding.set(run, left);
    }
  };

  const nextJob = (): Job | undefined => {
    for (const p of ['today', 'week', 'later'] as const) {
      for (;;) {
        const j = queues[p].shift();
        if (!j) break;
        if (j.dead) continue;
        queued--;
        return j;
      }
    }
    return undefined;
  };

  const midnights = firings('0 0 * * *', o.timeZone, t0 + 1, end);
  const sample = (now: number): void => {
    const today = todayIn(o.timeZone, new Date(now));
    const todayIndex = midnights.filter((m) => m <= now).length;
    for (let offset = 0; offset <= 59; offset++) {
      const range = rangeOf(offset)!;
      const date = addDays(today, offset);
      const shown = shownSince(midnights, t0, todayIndex + offset);
      const entered = enteredRangeAt(midnights, t0, todayIndex + offset, range);
      for (const p of products) {
        const at = lastSuccess.get(`${p}:${date}`);
        const age = (now - (at ?? shown)) / 1000;
        samples[range].push(age);
        if (at === undefined || at >= entered) settled[range].push(age);
      }
    }
  };

  let now = t0;
  let tickIdx = 0;
  let nextSample = measureFrom;
  while (now < end) {
    // Complete calls due by now.
    if (running.length > 0) {
      const still: typeof running = [];
      for (const r of running) {
        if (r.at <= now) finish(r.job, r.at);
        else still.push(r);
      }
      running = still;
    }
    // Ticks due by now.
    while (tickIdx < tickTimes.length && tickTimes[tickIdx] <= now) {
      const at = tickTimes[tickIdx++];
      for (const w of ticks.get(at)!) {
        const prev = runOfWindow.get(w);
        if (o.policy === 'service' && prev !== undefined && runOutstanding.has(prev)) {
          skippedRuns++;
          continue;
        }
        const run = ++runSeq;
        runOfWindow.set(w, run);
        for (const p of planWindow(w, products, new Date(at), o.timeZone)) {
          enqueue(p.productId, p.date, p.priority, run);
        }
      }
    }
    while (nextSample <= now && nextSample < end) {
      sample(nextSample);
      nextSample += o.sampleEveryMs;
    }
    // Start calls while the limiter allows.
    while (startsHead < starts.length && starts[startsHead] <= now - o.windowMs) startsHead++;
    while (running.length < o.concurrency && starts.length - startsHead < o.limit) {
      const job = nextJob();
      if (!job) break;
      starts.push(now);
      // The partner's view: requests in its sliding window, this one included.
      partnerSeen.push(now);
      while (partnerSeen[partnerHead] <= now - o.windowMs) partnerHead++;
      const inWindow = partnerSeen.length - partnerHead;
      busiest = Math.max(busiest, inWindow);
      if (inWindow > o.limit) partner429s++;
      if (now >= measureFrom) callsMeasured++;
      if (now >= weekFrom) callsWeek++;
      running.push({ at: now + o.latencyMs, job });
    }
    // Advance to the next event.
    const candidates = [end];
    if (tickIdx < tickTimes.length) candidates.push(tickTimes[tickIdx]);
    for (const r of running) candidates.push(r.at);
    if (nextSample < end) candidates.push(nextSample);
    if (queued > 0 && starts.length - startsHead >= o.limit)
      candidates.push(starts[startsHead] + o.windowMs + 1);
    const next = Math.min(...candidates.filter((c) => c > now));
    now = Number.isFinite(next) ? next : end;
  }

  const ages = summarize(samples);
  const days = o.measureMs / 86_400_000;
  const allowed = o.limit * (o.measureMs / o.windowMs);
  return {
    wantedPerProductPerDay: wantedMeasured / o.products / days,
    callsInMeasuredDay: callsMeasured,
    callsPerProductPerDay: callsMeasured / o.products / days,
    callsPerProductPerDayWeek: callsWeek / o.products / Math.min(7, (end - t0) / 86_400_000),
    partner429s,
    busiestWindow: busiest,
    utilization: callsMeasured / allowed,
    skippedRuns,
    peakQueue,
    endQueue: queued,
    ages,
    settledAges: summarize(settled),
  };
}

// ---------------------------------------------------------------------------------------------
// The due list: the dispatcher the service is moving to (issue 12). Work is data: each
// product-date has its last success, a due mark and when it became due. Ticks and the boot rule
// only mark; every turn any key's limiter gives takes the most urgent due product-date in the
// SyncPolicy's order; only a success clears the mark.

/** A stretch of virtual time in which the dispatcher takes no turns; ticks keep marking. */
export interface Pause {
  atMs: number;
  forMs: number;
}

/** The process dies at `atMs` (in-flight calls lost, the due list kept) and boots `downMs` later. */
export interface Kill {
  atMs: number;
  downMs: number;
}

export interface DueListOptions extends Omit<ModelOptions, 'policy'> {
  /** API keys, each its own limiter with the same limit; all take from the one due list. */
  keys: number;
  /** Offsets from `start`. */
  pauses?: readonly Pause[];
  kills?: readonly Kill[];
  /** 'scan' checks every due entry on every turn: the reference the buckets must agree with. */
  picker?: 'buckets' | 'scan';
  /**
   * Negative control: a pause drops every due mark not in flight, as main's pause drops its
   * queue. The lost-work count must catch it.
   */
  dropMarksOnPause?: boolean;
  /**
   * The urgency rule's idle-time prefetch (the "before" of the benches; the service retired it
   * for the value rule): when a key's limiter gives a turn and no product-date is due, take the
   * not-due, not-in-flight product-date with the highest (effective) age ÷ target among those at
   * or above `minFraction`, and fetch it like any other.
   */
  prefetch?: { minFraction: number };
  /**
   * Every horizon's share 1, the order before the shares: age ÷ target throughout (over
   * capacity every horizon the whole stretch). Unset: the policy built for the capacity plan's
   * stretch, as the service builds it.
   */
  flatShares?: boolean;
  /**
   * Called for every answer that lands (the product-date's data as the partner had it at
   * `sentAt`, stored at `answeredAt`), in time order: the accuracy bench judges reads with it.
   */
  onAnswer?: (id: number, sentAt: number, answeredAt: number) => void;
  /**
   * The value rule (issue 26) instead of the urgency order and the prefetch. Each product-date
   * must be synced before its deadline (its ranked instant + its horizon's floor); when the
   * deadlines, earliest first, leave no more room than the calls they need at `floorPace` of the
   * keys' rate (plus `marginMs`), those rows go first, in the urgency score's order. Otherwise a
   * never-synced due row, then the highest value, due or not, while the key's window holds fewer
   * than `budgetShare` × its limit (only the floor's rows take the rest: at saturation the window
   * is always full, so a cap on not-due calls alone would never let one through). Due rows without
   * value (nothing learned yet) follow by the urgency score.
   */
  value?: ValueRule;
}

export interface ValueRule {
  /** The value of syncing `id` now, its copy taken at `lastSuccessMs` (NaN: never synced). */
  valueOf: (id: number, now: number, lastSuccessMs: number) => number;
  /** Per horizon (HORIZON_NAMES order): the hard maximum age, seconds, for the run's policy. */
  floorsOf: (policy: SyncPolicy) => readonly number[];
  floorPace: number;
  /** The floor list's order: the urgency score (default) or the deadline, earliest first. */
  floorOrder?: 'urgency' | 'deadline';
  /** Never-synced due rows before the floor's (a variant; the service takes them with spare room). */
  neverFirst?: boolean;
  marginMs: number;
  budgetShare: number;
  /** How often the candidates are ranked (the service ranks a batch per dispatcher turn). */
  rerankMs: number;
  /** Called before each ranking: the rates catch up with `now` (reads, pools). */
  beforeRank?: (now: number, today: number) => void;
}

export interface DueListResult extends ModelResult {
  peakDue: number;
  /** The largest due list in the measured day: ÷ the budget's rate, one drain. */
  peakDueMeasured: number;
  /** Seconds since `start` at which the due list was largest. */
  peakDueAtSeconds: number;
  /** Data age at the end per date offset 0..59 and product (offset * products + p). */
  endAges: Float64Array;
  /** 1 where that product-date is due (or in flight) at the end: work still to come. */
  endDue: Uint8Array;
  /** Turns taken (all keys, whole run) and the wall-clock time spent picking for them. */
  turns: number;
  pickMs: number;
  /** The urgency rule's prefetch calls (whole run, measured day). */
  prefetches: number;
  prefetchesMeasured: number;
  /** Not-due calls the value rule made (whole run, measured day); floor-first calls (measured). */
  spareCalls: number;
  spareCallsMeasured: number;
  floorCallsMeasured: number;
  /** Product-dates of today .. today + lastDay never synced at the end. */
  neverSynced: number;
  /** The floors the value rule kept, seconds per age range (empty without it). */
  floors: Partial<Record<AgeRange, number>>;
}

/** A binary min-heap of (key, id) with keys fixed at push (ties: smaller id first). */
class KeyedHeap {
  private k: number[] = [];
  private v: number[] = [];
  get size(): number {
    return this.v.length;
  }
  peekId(): number | undefined {
    return this.v[0];
  }
  peekKey(): number {
    return this.k[0];
  }
  private less(i: number, j: number): boolean {
    return this.k[i] !== this.k[j] ? this.k[i] < this.k[j] : this.v[i] < this.v[j];
  }
  private swap(i: number, j: number): void {
    const { k, v } = this;
    [k[i], k[j]] = [k[j], k[i]];
    [v[i], v[j]] = [v[j], v[i]];
  }
  push(key: number, id: number): void {
    let i = this.k.push(key) - 1;
    this.v.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): void {
    const lk = this.k.pop()!;
    const lv = this.v.pop()!;
    if (this.v.length === 0) return;
    this.k[0] = lk;
    this.v[0] = lv;
    let i = 0;
    const len = this.v.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < len && this.less(l, m)) m = l;
      if (r < len && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}

/** A binary min-heap of product-date ids under a fixed order. */
class IdHeap {
  private a: number[] = [];
  constructor(private readonly before: (x: number, y: number) => boolean) {}
  get size(): number {
    return this.a.length;
  }
  peek(): number | undefined {
    return this.a[0];
  }
  push(id: number): void {
    const a = this.a;
    let i = a.push(id) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }
  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

interface KeyState {
  starts: number[];
  startsHead: number;
  partnerSeen: number[];
  partnerHead: number;
  /** Calls in flight: when each answer arrives (`at`) and when it was sent (`from`). */
  running: Array<{ at: number; from: number; id: number }>;
}

export function simulateDueList(o: DueListOptions): DueListResult {
  const DAY_MS = 86_400_000;
  const t0 = o.start.getTime();
  const end = t0 + o.warmupMs + o.measureMs;
  const measureFrom = t0 + o.warmupMs;
  const n = o.products;
  const products = Array.from({ length: n }, (_, i) => i + 1);
  const stretch = planStretch({
    products: n,
    perProduct: callsPerProduct(o.crons, o.timeZone, o.start),
    rateLimit: o.limit,
    rateWindowMs: o.windowMs,
    keys: o.keys,
  });
  const built = buildSyncPolicy(o.crons, o.timeZone, o.start, stretch);
  const policy = o.flatShares
    ? { ...built, horizons: built.horizons.map((h) => ({ ...h, stretchShare: 1 })) }
    : built;
  const lastDay = policy.lastDay;
  const horizonOf = Array.from({ length: lastDay + 1 }, (_, day) =>
    HORIZON_NAMES.indexOf(horizonForDay(policy, day).name),
  );

  // Dates as day indexes from the first "today"; a product-date id is dayIndex * n + product.
  const firstDay = todayIn(o.timeZone, o.start);
  const dayIndex = (date: string): number =>
    Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${firstDay}T00:00:00Z`)) / DAY_MS);
  const totalDays = Math.ceil((end - t0) / DAY_MS) + lastDay + 2;
  const size = totalDays * n;
  const lastSuccess = new Float64Array(size).fill(NaN);
  const due = new Uint8Array(size);
  const dueSince = new Float64Array(size).fill(NaN);
  const inFlight = new Uint8Array(size);
  // The newest instant a mark asked data from (marked_at): an answer sent before it keeps the mark.
  const markedAt = new Float64Array(size);
  let dueCount = 0;
  let today = 0;

  // Midnights as the policy counts them (UTC; the bench runs in UTC, as nextDue's SQL counts).
  const firstMidnight = Date.parse(`${firstDay}T00:00:00Z`);
  const secondsIntoToday = (now: number): number => (now - (firstMidnight + today * DAY_MS)) / 1000;
  // The score's ranked instant (urgency-score.ts), fixed while the date stays in its horizon (the
  // heaps are rebuilt at each midnight): never synced, the midnight it entered the range; handed
  // over, at most its target before the midnight it entered its current horizon.
  const horizonEnd = policy.horizons.map((h) => h.toDay);
  const horizonTargetMs = policy.horizons.map((h) => h.targetSeconds * 1000);
  const horizonShare = policy.horizons.map((h) => h.stretchShare);
  const effectiveSince = (id: number, handOverSeconds?: number): number => {
    const day = Math.floor(id / n);
    const h = horizonOf[Math.min(lastDay, Math.max(0, day - today))];
    return rankedSinceMs(
      {
        dateMs: firstMidnight + day * DAY_MS,
        lastSuccessMs: Number.isNaN(lastSuccess[id]) ? null : lastSuccess[id],
        targetSeconds: handOverSeconds ?? policy.horizons[h].targetSeconds,
        toDay: horizonEnd[h],
      },
      lastDay,
    );
  };
  // Within a horizon every date has the same target, so lateness order = oldest effective
  // success first, nearer date on ties: one heap per horizon, compare only the heads.
  const before = (x: number, y: number): boolean => {
    const lx = effectiveSince(x);
    const ly = effectiveSince(y);
    return lx !== ly ? lx < ly : x < y;
  };
  let buckets = HORIZON_NAMES.map(() => new IdHeap(before));
  const offsetOf = (id: number): number => Math.floor(id / n) - today;
  const facts = (id: number, now: number): UrgencyFacts => ({
    day: offsetOf(id),
    ageSeconds: Number.isNaN(lastSuccess[id]) ? null : (now - lastSuccess[id]) / 1000,
  });
  const queue = (id: number): void => {
    if (o.picker !== 'scan') buckets[horizonOf[offsetOf(id)]].push(id);
  };
  const mark = (id: number, at: number): boolean => {
    markedAt[id] = Math.max(markedAt[id], at);
    if (due[id]) return false; // one entry per product-date, whoever marked it first
    due[id] = 1;
    dueSince[id] = at;
    dueCount++;
    // A prefetch in flight: the answer's handler re-queues it (its mark is newer than the call).
    if (!inFlight[id]) queue(id);
    return true;
  };
  const clear = (id: number): void => {
    if (!due[id]) return;
    due[id] = 0;
    dueSince[id] = NaN;
    dueCount--;
  };
  // A day change moves every date one horizon nearer (+7 becomes +6); past dates leave the list.
  // Idle-time prefetch: per horizon, the not-due product-dates by effective success, oldest
  // first. Entries are lazy: one is stale when its date is due, in flight, or synced since.
  const pf = o.prefetch;
  let idle = HORIZON_NAMES.map(() => new KeyedHeap());
  const idleQueue = (id: number): void => {
    if (!pf) return;
    const day = offsetOf(id);
    if (day < 0 || day > lastDay) return;
    idle[horizonOf[day]].push(effectiveSince(id), id);
  };
  let idleWake = Infinity;
  const pickIdle = (now: number): number | undefined => {
    if (!pf) return undefined;
    let best = -1;
    let bestRatio = -Infinity;
    let bestDay = 0;
    idleWake = Infinity;
    for (let h = 0; h < idle.length; h++) {
      const heap = idle[h];
      for (;;) {
        const id = heap.peekId();
        if (id === undefined) break;
        const day = offsetOf(id);
        if (
          due[id] ||
          inFlight[id] ||
          day < 0 ||
          day > lastDay ||
          horizonOf[day] !== h ||
          heap.peekKey() !== effectiveSince(id)
        ) {
          heap.pop();
          continue;
        }
        const ratio = (now - heap.peekKey()) / horizonTargetMs[h];
        const score = stretched(ratio, horizonShare[h]);
        if (ratio < pf.minFraction) {
          idleWake = Math.min(idleWake, heap.peekKey() + pf.minFraction * horizonTargetMs[h]);
        } else if (score > bestRatio || (score === bestRatio && day < bestDay)) {
          best = id;
          bestRatio = score;
          bestDay = day;
        }
        break;
      }
    }
    if (best < 0) return undefined;
    idle[horizonOf[offsetOf(best)]].pop();
    return best;
  };
  const rebuild = (): void => {
    buckets = HORIZON_NAMES.map(() => new IdHeap(before));
    if (pf) idle = HORIZON_NAMES.map(() => new KeyedHeap());
    for (let id = 0; id < size; id++) {
      if (inFlight[id]) continue;
      if (!due[id]) {
        idleQueue(id);
        continue;
      }
      const day = offsetOf(id);
      if (day < 0) clear(id);
      else queue(id);
    }
  };
  const pickBuckets = (now: number): number | undefined => {
    let best: number | undefined;
    for (const b of buckets) {
      const head = b.peek();
      if (head === undefined) continue;
      if (
        best === undefined ||
        compareUrgency(policy, facts(head, now), facts(best, now), secondsIntoToday(now)) < 0
      )
        best = head;
    }
    if (best !== undefined) buckets[horizonOf[offsetOf(best)]].pop();
    return best;
  };
  const pickScan = (now: number): number | undefined => {
    let best: number | undefined;
    for (let id = today * n; id < (today + lastDay + 1) * n; id++) {
      if (!due[id] || inFlight[id]) continue;
      if (best === undefined) best = id;
      else {
        const c = compareUrgency(policy, facts(id, now), facts(best, now), secondsIntoToday(now));
        if (c < 0 || (c === 0 && id < best)) best = id;
      }
    }
    return best;
  };
  const pick = o.picker === 'scan' ? pickScan : pickBuckets;

  // The value rule: candidates ranked every rerankMs (or when used up), taken lazily.
  const vr = o.value;
  const floorS = vr ? vr.floorsOf(policy) : [];
  let floorList: number[] = [];
  let valueList: number[] = [];
  let neverList: number[] = [];
  let rankedAt = -Infinity;
  let lastPickFloor = false;
  const valueTopK = (): number =>
    Math.max(16, Math.ceil((o.keys * o.limit * vr!.rerankMs) / o.windowMs) * 2);
  const rankValue = (now: number): void => {
    const rule = vr!;
    rule.beforeRank?.(now, today);
    rankedAt = now;
    const dueIds: number[] = [];
    const deadlines: number[] = [];
    const k = valueTopK();
    const never = new KeyedHeap();
    // Min-heaps of the k highest.
    const top = new KeyedHeap();
    const keep = (heap: KeyedHeap, key: number, id: number): void => {
      if (heap.size < k) heap.push(key, id);
      else if (key > heap.peekKey()) {
        heap.pop();
        heap.push(key, id);
      }
    };
    // Deadlines counted per minute ahead: the latest the floor's rows can wait.
    const bucketMs = valueRuleTiming(o.windowMs).bucketMs;
    const counts = new Int32Array(Math.ceil((Math.max(...floorS) * 1000) / bucketMs) + 2);
    for (let id = today * n; id < (today + lastDay + 1) * n; id++) {
      if (inFlight[id]) continue;
      const h = horizonOf[offsetOf(id)];
      // Every row's deadline counts, due or not: one synced since the last tick is marked at the
      // next, maybe too late to fit it in. A date handed over has its new horizon's whole floor
      // from the midnight it entered.
      const deadline = effectiveSince(id, 0) + floorS[h] * 1000;
      dueIds.push(id);
      deadlines.push(deadline);
      counts[Math.min(counts.length - 1, Math.max(0, Math.floor((deadline - now) / bucketMs)))]++;
      if (due[id] && Number.isNaN(lastSuccess[id])) keep(never, -effectiveSince(id), id);
      const v = rule.valueOf(id, now, lastSuccess[id]);
      let key: number;
      if (v > 0) key = v;
      else if (due[id]) key = -1 / (1 + urgency(policy, facts(id, now), secondsIntoToday(now)));
      else continue;
      keep(top, key, id);
    }
    // EDF: the rows up to the last minute whose deadlines the calls before them would miss.
    const perMs = (rule.floorPace * o.keys * o.limit) / o.windowMs;
    const filled: DeadlineBucket[] = [];
    counts.forEach((count, bucket) => count > 0 && filled.push({ bucket, count }));
    const forcedBuckets = floorForcedBuckets(filled, perMs, rule.marginMs, bucketMs);
    const forcedBelow = forcedBuckets > 0 ? now + forcedBuckets * bucketMs : -Infinity;
    const forced: number[] = [];
    for (let i = 0; i < dueIds.length; i++) if (deadlines[i] < forcedBelow) forced.push(i);
    // In the urgency score's order (today first within capacity, the shares over capacity): by
    // deadline, a budget that cannot keep every floor let today's wait behind days-late others.
    const score = (i: number): number =>
      urgency(policy, facts(dueIds[i], now), secondsIntoToday(now));
    floorList = forced
      .map((i) => ({ i, u: rule.floorOrder === 'deadline' ? -deadlines[i] : score(i) }))
      .sort((a, b) => b.u - a.u || dueIds[a.i] - dueIds[b.i])
      .map(({ i }) => dueIds[i]);
    const drain = (heap: KeyedHeap): number[] => {
      const ids: number[] = [];
      while (heap.size > 0) {
        ids.push(heap.peekId()!);
        heap.pop();
      }
      return ids.reverse();
    };
    neverList = drain(never);
    valueList = drain(top);
  };
  const usable = (id: number): boolean =>
    !inFlight[id] && !(lastSuccess[id] >= rankedAt) && offsetOf(id) >= 0;
  const takeFrom = (list: number[]): number | undefined => {
    while (list.length > 0) {
      const id = list.shift()!;
      if (usable(id)) return id;
    }
    return undefined;
  };
  const pickValue = (now: number, spare: boolean): number | undefined => {
    if (now - rankedAt >= vr!.rerankMs) rankValue(now);
    for (;;) {
      let id = (vr!.neverFirst ? takeFrom(neverList) : undefined) ?? takeFrom(floorList);
      lastPickFloor = id !== undefined;
      if (id === undefined && spare) id = takeFrom(neverList) ?? takeFrom(valueList);
      if (id !== undefined) return id;
      // Used up before the next ranking: rank again (once per instant).
      if (!spare || rankedAt === now) return undefined;
      rankValue(now);
    }
  };

  // The boot rule, the whole catch-up: whatever is older than its target (or never synced).
  const boot = (now: number): void => {
    for (let day = 0; day <= lastDay; day++) {
      for (let p = 0; p < n; p++) {
        const id = (today + day) * n + p;
        if (isOverdue(policy, facts(id, now))) mark(id, now);
      }
    }
  };

  const ticks = new Map<number, SyncWindow[]>();
  for (const w of o.windows) {
    for (const at of firings(cronOf(w, o.crons), o.timeZone, t0, end)) {
      ticks.set(at, [...(ticks.get(at) ?? []), w]);
    }
  }
  const tickTimes = [...ticks.keys()].sort((a, b) => a - b);
  const midnights = firings('0 0 * * *', o.timeZone, t0 + 1, end);

  const keys: KeyState[] = Array.from({ length: o.keys }, () => ({
    starts: [],
    startsHead: 0,
    partnerSeen: [],
    partnerHead: 0,
    running: [],
  }));
  const pauses = (o.pauses ?? []).map((p) => ({ from: t0 + p.atMs, to: t0 + p.atMs + p.forMs }));
  const kills = (o.kills ?? []).map((k) => ({ at: t0 + k.atMs, up: t0 + k.atMs + k.downMs }));
  let killIdx = 0;
  let downUntil = -Infinity;
  const boundaries = [
    ...pauses.flatMap((p) => [p.from, p.to]),
    ...kills.flatMap((k) => [k.at, k.up]),
  ];

  const samples = emptySamples();
  const settled = emptySamples();
  const sample = (now: number): void => {
    for (let day = 0; day <= lastDay; day++) {
      const range = rangeOf(day)!;
      const shown = shownSince(midnights, t0, today + day);
      const entered = enteredRangeAt(midnights, t0, today + day, range);
      for (let p = 0; p < n; p++) {
        const at = lastSuccess[(today + day) * n + p];
        const age = (now - (Number.isNaN(at) ? shown : at)) / 1000;
        samples[range].push(age);
        if (!(at < entered)) settled[range].push(age);
      }
    }
  };

  let partner429s = 0;
  let busiest = 0;
  let callsMeasured = 0;
  let callsWeek = 0;
  const weekFrom = end - 7 * 86_400_000;
  let marksMeasured = 0;
  let peakDue = 0;
  let peakDueAt = t0;
  let peakDueMeasured = 0;
  let turns = 0;
  let pickMs = 0;
  let now = t0;
  let tickIdx = 0;
  let midnightIdx = 0;
  let nextSample = measureFrom;
  let prefetches = 0;
  let prefetchesMeasured = 0;
  let spareCalls = 0;
  let spareCallsMeasured = 0;
  let floorCallsMeasured = 0;
  boot(now);
  if (pf) rebuild();
  while (now < end) {
    for (const k of keys) {
      if (k.running.length === 0) continue;
      const still: KeyState['running'] = [];
      for (const r of k.running) {
        if (r.at > now) {
          still.push(r);
          continue;
        }
        lastSuccess[r.id] = r.at;
        inFlight[r.id] = 0;
        o.onAnswer?.(r.id, r.from, r.at);
        // A tick that came while it was in flight asked for data newer than this answer.
        if (markedAt[r.id] > r.from && offsetOf(r.id) >= 0) queue(r.id);
        else {
          clear(r.id);
          idleQueue(r.id);
        }
      }
      k.running = still;
    }
    while (midnightIdx < midnights.length && midnights[midnightIdx] <= now) {
      midnightIdx++;
      today++;
      rebuild();
      rankedAt = -Infinity;
    }
    while (killIdx < kills.length && kills[killIdx].at <= now) {
      // In-flight calls die with the process; their product-dates are still due.
      for (const k of keys) {
        for (const r of k.running) {
          inFlight[r.id] = 0;
          if (offsetOf(r.id) < 0) clear(r.id);
          else if (due[r.id]) queue(r.id);
          else idleQueue(r.id); // a prefetch lost with the process: not due, as before it
        }
        k.running = [];
      }
      downUntil = kills[killIdx].up;
      killIdx++;
    }
    const down = now < downUntil;
    if (!down && downUntil !== -Infinity) {
      // The new process: fresh limiters, the kept due list, and the boot rule.
      for (const k of keys) {
        k.starts = [];
        k.startsHead = 0;
      }
      downUntil = -Infinity;
      boot(now);
    }
    while (tickIdx < tickTimes.length && tickTimes[tickIdx] <= now) {
      const at = tickTimes[tickIdx++];
      if (down) continue; // no process, no cron: the boot rule makes up for it
      for (const w of ticks.get(at)!) {
        for (const p of planWindow(w, products, new Date(at), o.timeZone)) {
          const id = dayIndex(p.date) * n + (p.productId - 1);
          if (lastSuccess[id] >= at) continue; // already fresh as of this tick
          if (mark(id, at) && at >= measureFrom) marksMeasured++;
        }
      }
    }
    if (dueCount > peakDue) {
      peakDue = dueCount;
      peakDueAt = now;
    }
    if (now >= measureFrom) peakDueMeasured = Math.max(peakDueMeasured, dueCount);
    while (nextSample <= now && nextSample < end) {
      sample(nextSample);
      nextSample += o.sampleEveryMs;
    }
    const paused = pauses.some((p) => now >= p.from && now < p.to);
    if (o.dropMarksOnPause && pauses.some((p) => p.from === now)) {
      for (let id = 0; id < size; id++) if (due[id] && !inFlight[id]) clear(id);
      buckets = HORIZON_NAMES.map(() => new IdHeap(before));
    }
    if (!down && !paused) {
      for (const k of keys) {
        while (k.startsHead < k.starts.length && k.starts[k.startsHead] <= now - o.windowMs)
          k.startsHead++;
        while (k.running.length < o.concurrency && k.starts.length - k.startsHead < o.limit) {
          const t = performance.now();
          let id: number | undefined;
          let prefetched = false;
          let spareCall = false;
          if (vr) {
            id = pickValue(now, k.starts.length - k.startsHead < vr.budgetShare * o.limit);
            spareCall = id !== undefined && !due[id];
          } else {
            id = pick(now);
            if (id === undefined && pf) {
              id = pickIdle(now);
              prefetched = id !== undefined;
            }
          }
          pickMs += performance.now() - t;
          if (id === undefined) break;
          if (spareCall) {
            spareCalls++;
            if (now >= measureFrom) spareCallsMeasured++;
          }
          if (vr && lastPickFloor && now >= measureFrom) floorCallsMeasured++;
          if (prefetched) {
            prefetches++;
            if (now >= measureFrom) prefetchesMeasured++;
          }
          turns++;
          inFlight[id] = 1;
          k.starts.push(now);
          k.partnerSeen.push(now);
          while (k.partnerSeen[k.partnerHead] <= now - o.windowMs) k.partnerHead++;
          const inWindow = k.partnerSeen.length - k.partnerHead;
          busiest = Math.max(busiest, inWindow);
          if (inWindow > o.limit) partner429s++;
          if (now >= measureFrom) callsMeasured++;
          if (now >= weekFrom) callsWeek++;
          k.running.push({ at: now + o.latencyMs, from: now, id });
        }
      }
    }
    const candidates = [end];
    if (tickIdx < tickTimes.length) candidates.push(tickTimes[tickIdx]);
    if (midnightIdx < midnights.length) candidates.push(midnights[midnightIdx]);
    if (nextSample < end) candidates.push(nextSample);
    for (const b of boundaries) if (b > now) candidates.push(b);
    for (const k of keys) {
      for (const r of k.running) candidates.push(r.at);
      if ((dueCount > 0 || pf) && k.starts.length - k.startsHead >= o.limit)
        candidates.push(k.starts[k.startsHead] + o.windowMs);
      // The value rule's spare share frees up as each start leaves the window.
      if (vr && k.starts.length > k.startsHead)
        candidates.push(k.starts[k.startsHead] + o.windowMs);
    }
    if (vr) candidates.push(rankedAt + vr.rerankMs);
    if (pf && idleWake > now && Number.isFinite(idleWake)) candidates.push(idleWake);
    const next = Math.min(...candidates.filter((c) => c > now));
    now = Number.isFinite(next) ? next : end;
  }

  const endAges = new Float64Array((lastDay + 1) * n);
  const endDue = new Uint8Array((lastDay + 1) * n);
  for (let day = 0; day <= lastDay; day++) {
    const shown = shownSince(midnights, t0, today + day);
    for (let p = 0; p < n; p++) {
      const id = (today + day) * n + p;
      const at = lastSuccess[id];
      endAges[day * n + p] = (end - (Number.isNaN(at) ? shown : at)) / 1000;
      endDue[day * n + p] = due[id] || inFlight[id];
    }
  }
  let neverSynced = 0;
  for (let id = today * n; id < (today + lastDay + 1) * n; id++)
    if (Number.isNaN(lastSuccess[id])) neverSynced++;
  const floors: Partial<Record<AgeRange, number>> = {};
  if (vr) AGE_RANGES.forEach((r, i) => (floors[r] = floorS[i]));
  const days = o.measureMs / DAY_MS;
  const allowed = o.keys * o.limit * (o.measureMs / o.windowMs);
  return {
    wantedPerProductPerDay: marksMeasured / n / days,
    callsInMeasuredDay: callsMeasured,
    callsPerProductPerDay: callsMeasured / n / days,
    callsPerProductPerDayWeek: callsWeek / n / Math.min(7, (end - t0) / DAY_MS),
    partner429s,
    busiestWindow: busiest,
    utilization: callsMeasured / allowed,
    skippedRuns: 0,
    peakQueue: peakDue,
    endQueue: dueCount,
    ages: summarize(samples),
    settledAges: summarize(settled),
    peakDue,
    peakDueMeasured,
    peakDueAtSeconds: (peakDueAt - t0) / 1000,
    endAges,
    endDue,
    turns,
    pickMs,
    prefetches,
    prefetchesMeasured,
    spareCalls,
    spareCallsMeasured,
    floorCallsMeasured,
    neverSynced,
    floors,
  };
}
