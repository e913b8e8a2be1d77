/**
 * Accuracy in virtual time: the simulator's change model (the same code, src/partner/simulator/
 * change-model.ts) moves every product-date, reads drawn from the read-demand model are judged
 * (the same judge as the real-service run) against the truth at their instant, and a sync policy
 * decides which product-date's copy is refreshed when. Policies: the value rule the service runs
 * (issue 26, `valuePolicySyncs` on the due-list model of _sync-model.ts: rates learned or true),
 * the urgency rule it replaced (`urgencyRuleSyncs`, the "before"), and three schedules at the
 * key's full budget: uniform, proportional to change rate, and the oracle (square-root allocation
 * of Azar et al. 2018 from the true change and read rates).
 */
import { addDays, todayIn } from '../src/inventory/calendar';
import { SYNC_WINDOWS } from '../src/inventory/sync-window';
import {
  AccuracyTally,
  judgeRead,
  popularityDecile,
  type AccuracySummary,
  type ReadVerdict,
} from '../src/partner/simulator/accuracy-judge';
import {
  changeRatePerHour,
  eventsBetween,
  seededUniform,
  applyEvents,
  stateAt,
  type ChangeEvent,
  type ChangeModelParams,
} from '../src/partner/simulator/change-model';
import {
  readWeight,
  WeightedPicker,
  type ReadDemandParams,
} from '../src/partner/simulator/read-demand';
import { simulatedInventory, type WireSlot } from '../src/partner/simulator/simulator-data';
import {
  callValue,
  FLOOR_PACE,
  valueRuleTiming,
  floorSeconds,
  staleReadRate,
} from '../src/inventory/policy/call-value';
import {
  learnedChangeRate,
  NO_CHANGE_STATS,
  observeChange,
  readRate,
  type ChangeStats,
} from '../src/inventory/policy/learned-rates';
import { HORIZON_NAMES } from '../src/inventory/policy/sync-policy';
import {
  DAY,
  MODEL_RUN,
  simulateDueList,
  urgencyPrefetch,
  type DueListResult,
} from './_sync-model';

/** SYNC_BUDGET_SHARE's default (src/config/env.schema.ts), as the service runs it. */
export const DEFAULT_BUDGET_SHARE = 0.9;

const HOUR = 3_600_000;
/** The dates the sync keeps: today .. today + 59. */
const SPAN = 60;

export interface AccuracyRunOptions {
  products: number;
  keys: number;
  start: Date;
  warmupMs: number;
  measureMs: number;
  change: Omit<ChangeModelParams, 'startMs'>;
  reads: ReadDemandParams;
  /** Reads drawn per day of the measured span (judged; more = less sampling noise). */
  readsPerDay: number;
  /** The simulator's generated-data seed (slots and prices). */
  dataSeed: number;
  /** Calls per key per 60 s (default the partner's 30). */
  limit?: number;
}

/** Everything the policies share: the truth (events per product-date) and the reads to judge. */
export interface World {
  o: AccuracyRunOptions;
  params: ChangeModelParams;
  t0: number;
  end: number;
  measureFrom: number;
  firstDay: string;
  /** Product-date ids: dayIndex * products + (productId - 1), as the due-list model numbers them. */
  size: number;
  /** 1 where the product-date has no slots: nothing to change, its true change rate is 0. */
  empty: Uint8Array;
  /** Event times per id (sorted) and the events themselves (none for an empty one). */
  times: Float64Array[];
  events: ChangeEvent[][];
  /** Reads in time order: instant and id. */
  readAt: Float64Array;
  readId: Int32Array;
  /**
   * Reads before the measured span (not judged; another seed, so the judged ones are the same):
   * what the value rule learns demand from during the warm-up.
   */
  warmReadAt: Float64Array;
  warmReadId: Int32Array;
  /** Calls the key(s) allow per ms. */
  budgetPerMs: number;
}

export function buildWorld(o: AccuracyRunOptions): World {
  const t0 = o.start.getTime();
  const end = t0 + o.warmupMs + o.measureMs;
  const measureFrom = t0 + o.warmupMs;
  const params: ChangeModelParams = { ...o.change, startMs: t0 };
  const firstDay = todayIn('UTC', o.start);
  const n = o.products;
  const days = Math.ceil((end - t0) / DAY) + SPAN + 2;
  const size = days * n;
  const times: Float64Array[] = new Array<Float64Array>(size);
  const events: ChangeEvent[][] = new Array<ChangeEvent[]>(size);
  const empty = new Uint8Array(size);
  for (let id = 0; id < size; id++) {
    const date = addDays(firstDay, Math.floor(id / n));
    empty[id] = simulatedInventory((id % n) + 1, date, o.dataSeed, 0).length === 0 ? 1 : 0;
    const e = empty[id] ? [] : eventsBetween(params, (id % n) + 1, date, t0, end);
    events[id] = e;
    times[id] = Float64Array.from(e, (x) => x.at);
  }
  // Reads: a Poisson stream over the measured span, each to a product-date by read weight.
  const judged = readStream(o, firstDay, o.change.seed * 7919 + 17, measureFrom, end);
  const warm = readStream(o, firstDay, o.change.seed * 7919 + 29, t0, measureFrom);
  return {
    o,
    params,
    t0,
    end,
    measureFrom,
    firstDay,
    size,
    empty,
    times,
    events,
    readAt: judged.at,
    readId: judged.id,
    warmReadAt: warm.at,
    warmReadId: warm.id,
    budgetPerMs: (o.keys * (o.limit ?? MODEL_RUN.limit)) / MODEL_RUN.windowMs,
  };
}

/** A Poisson stream of reads in [from, to), each to a product-date by read weight. */
function readStream(
  o: AccuracyRunOptions,
  firstDay: string,
  seed: number,
  from: number,
  to: number,
): { at: Float64Array; id: Int32Array } {
  const n = o.products;
  const u = seededUniform(seed);
  const ratePerMs = o.readsPerDay / DAY;
  const at: number[] = [];
  const ids: number[] = [];
  let t = from;
  let pickerDay = -1;
  let picker: WeightedPicker | null = null;
  for (;;) {
    t += -Math.log(1 - u()) / ratePerMs;
    if (t >= to) break;
    const today = Math.floor((t - Date.parse(`${firstDay}T00:00:00Z`)) / DAY);
    if (today !== pickerDay) {
      const weights = new Float64Array(SPAN * n);
      for (let d = 0; d < SPAN; d++)
        for (let p = 0; p < n; p++) weights[d * n + p] = readWeight(o.reads, p + 1, d);
      picker = new WeightedPicker(weights);
      pickerDay = today;
    }
    at.push(t);
    ids.push(today * n + picker!.pick(u()));
  }
  return { at: Float64Array.from(at), id: Int32Array.from(ids) };
}

/** A copy of slots (structuredClone is ten times slower, and runs per event). */
function cloneSlots(slots: readonly WireSlot[]): WireSlot[] {
  return slots.map((s) => ({
    ...s,
    paxAvailability: s.paxAvailability.map((p) => ({ ...p, price: { ...p.price } })),
  }));
}

/** Events of `id` at or before `t`. */
function versionAt(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One refresh as a policy made it: the partner's data at `sentAt`, served from `answeredAt`. */
export interface SyncRecord {
  id: number;
  sentAt: number;
  answeredAt: number;
}

export interface PolicyResult {
  summary: AccuracySummary;
  /** Calls in the measured span ÷ what the key(s) allow in it. */
  budgetUsed: number;
  calls: number;
}

/** Judges every read of the world against the copies `syncs` (in answeredAt order) leave. */
export function judgeReads(w: World, syncs: readonly SyncRecord[]): PolicyResult {
  const n = w.o.products;
  const served = new Int32Array(w.size).fill(-1);
  const states = new Map<number, { product: number; date: string; list: WireSlot[][] }>();
  const stateOf = (id: number, version: number): WireSlot[] => {
    let entry = states.get(id);
    if (!entry) {
      const product = (id % n) + 1;
      const date = addDays(w.firstDay, Math.floor(id / n));
      const base = simulatedInventory(product, date, w.o.dataSeed, 0);
      entry = { product, date, list: [stateAt(w.params, product, date, base, w.t0)] };
      states.set(id, entry);
    }
    const { list, product, date } = entry;
    while (list.length <= version) {
      const next = cloneSlots(list[list.length - 1]);
      applyEvents(w.params, product, date, next, [w.events[id][list.length - 1]]);
      list.push(next);
    }
    return list[version];
  };
  // A (copy, truth) pair is judged once: many reads see the same pair.
  const verdicts = new Map<string, ReadVerdict>();
  const judge = (id: number, have: number, truth: number): ReadVerdict => {
    const key = `${id}:${have}:${truth}`;
    let v = verdicts.get(key);
    if (!v) {
      v = judgeRead(have < 0 ? [] : stateOf(id, have), stateOf(id, truth));
      verdicts.set(key, v);
    }
    return v;
  };
  const tally = new AccuracyTally();
  const firstMidnight = Date.parse(`${w.firstDay}T00:00:00Z`);
  let s = 0;
  let calls = 0;
  for (const r of syncs) if (r.sentAt >= w.measureFrom) calls++;
  for (let i = 0; i < w.readAt.length; i++) {
    const t = w.readAt[i];
    while (s < syncs.length && syncs[s].answeredAt <= t) {
      const r = syncs[s++];
      served[r.id] = versionAt(w.times[r.id], r.sentAt);
    }
    const id = w.readId[i];
    const truth = versionAt(w.times[id], t);
    const days = Math.floor(id / n) - Math.floor((t - firstMidnight) / DAY);
    const decile = popularityDecile((id % n) + 1, n);
    const have = served[id];
    if (have === truth) tally.add({ fresh: true, soldOutShownBookable: false }, days, decile);
    else tally.add(judge(id, have, truth), days, decile);
  }
  const allowed = w.budgetPerMs * (w.end - w.measureFrom);
  return { summary: tally.summary(), budgetUsed: calls / allowed, calls };
}

/**
 * The urgency rule (before): the policy the service ran before the value rule, with its default
 * settings then: the due-list model (compareUrgency over the crons, the limiter) and
 * SYNC_PREFETCH=auto (idle-time prefetch with more than one key). Kept as the benches' "before".
 */
export function urgencyRuleSyncs(w: World): ModelPolicyRun {
  const syncs: SyncRecord[] = [];
  const model = simulateDueList({
    prefetch: urgencyPrefetch(w.o.keys),
    ...MODEL_RUN,
    limit: w.o.limit ?? MODEL_RUN.limit,
    windows: SYNC_WINDOWS,
    products: w.o.products,
    keys: w.o.keys,
    start: w.o.start,
    warmupMs: w.o.warmupMs,
    measureMs: w.o.measureMs,
    onAnswer: (id, sentAt, answeredAt) => syncs.push({ id, sentAt, answeredAt }),
  });
  return { syncs, model };
}

export type ValueForm = 'gain' | 'stale-rate';

export interface ValuePolicyOptions {
  /** The rates the rule ranks by: the truth (the oracle's inputs), or learned from its own syncs. */
  rates: 'true' | 'learned';
  /** Learning starts here (nothing known before: a cold start); default the run's start. */
  learnFromMs?: number;
  /** callValue (the marginal gain of a periodic refresh) or μ·(1 − e^{−λa}). */
  form?: ValueForm;
  /** SYNC_BUDGET_SHARE: not-due calls only while the key's window holds fewer than this × its limit. */
  budgetShare?: number;
  /** Within capacity, the floor as a multiple of the target (call-value.ts's floorSeconds). */
  floorWithinCapacity?: number | 'margin';
  /** The floor's planning pace (default FLOOR_PACE). */
  floorPace?: number;
  floorOrder?: 'urgency' | 'deadline';
  neverFirst?: boolean;
  changeHalfLifeMs?: number;
  readHalfLifeMs?: number;
}

/** The learner's defaults: the service's CHANGE_RATE_HALF_LIFE_MS and READ_DEMAND_HALF_LIFE_MS. */
export const CHANGE_HALF_LIFE_MS = 7 * DAY;
export const READ_HALF_LIFE_MS = 6 * HOUR;
/** How often the leader refreshes the pools (change_rate_pools). */
const POOL_EVERY_MS = 15 * 60_000;

export interface ModelPolicyRun {
  syncs: SyncRecord[];
  model: DueListResult;
}

/**
 * The value rule on the due-list model: the crons mark, each horizon keeps its floor, and the
 * value (call-value.ts) of true or learned rates orders the rest and spends the spare budget. The
 * learned rates come from the rule's own syncs (changed since the previous one or not, from the
 * truth's events) and its reads, through learned-rates.ts as the service learns them.
 */
export function valuePolicySyncs(w: World, v: ValuePolicyOptions): ModelPolicyRun {
  const n = w.o.products;
  const learnFrom = v.learnFromMs ?? w.t0;
  const changeHl = (v.changeHalfLifeMs ?? CHANGE_HALF_LIFE_MS) / 1000;
  const readHl = (v.readHalfLifeMs ?? READ_HALF_LIFE_MS) / 1000;
  const form = v.form === 'stale-rate' ? staleReadRate : callValue;
  const firstMidnight = Date.parse(`${w.firstDay}T00:00:00Z`);
  const horizonOfDay = (d: number): number => (d === 0 ? 0 : d <= 6 ? 1 : d <= 29 ? 2 : 3);

  // The truth per day offset (today's), for rates 'true'.
  let truthDay = -1;
  let truth: TrueRates | null = null;
  // What is learned: each product-date's four sums, the pools, the rate they give, the reads.
  const own: ChangeStats[] = new Array<ChangeStats>(w.size).fill(NO_CHANGE_STATS);
  const prevSent = new Float64Array(w.size).fill(NaN);
  const lambda = new Float64Array(w.size);
  let productPool: ChangeStats[] = [];
  let horizonPool: ChangeStats[] = [];
  let poolsAt = -Infinity;
  const dirty = new Set<number>();
  // Reads as a decayed count relative to t0 (count now = count × 2^(−(now − t0)/half-life)).
  const reads = new Float64Array(w.size);
  let readScale = 0;
  let warmIdx = 0;
  let readIdx = 0;
  let day = 0;

  const add = (a: ChangeStats, b: ChangeStats): ChangeStats => ({
    changed: a.changed + b.changed,
    changedSeconds: a.changedSeconds + b.changedSeconds,
    unchanged: a.unchanged + b.unchanged,
    unchangedSeconds: a.unchangedSeconds + b.unchangedSeconds,
  });
  const rateOfId = (id: number, today: number): number => {
    const d = Math.floor(id / n) - today;
    const p = id % n;
    const h = horizonOfDay(Math.min(SPAN - 1, Math.max(0, d)));
    return learnedChangeRate({
      own: own[id],
      productPool: productPool[p * 4 + h],
      horizonPool: horizonPool[h],
    });
  };
  const refreshPools = (now: number, today: number): void => {
    productPool = new Array<ChangeStats>(n * 4).fill(NO_CHANGE_STATS);
    horizonPool = new Array<ChangeStats>(4).fill(NO_CHANGE_STATS);
    for (let d = 0; d < SPAN; d++) {
      const h = horizonOfDay(d);
      for (let p = 0; p < n; p++) {
        const s = own[(today + d) * n + p];
        if (s === NO_CHANGE_STATS) continue;
        productPool[p * 4 + h] = add(productPool[p * 4 + h], s);
        horizonPool[h] = add(horizonPool[h], s);
      }
    }
    for (let id = today * n; id < (today + SPAN) * n; id++) lambda[id] = rateOfId(id, today);
    dirty.clear();
    poolsAt = now;
  };
  const countRead = (t: number, id: number): void => {
    if (t >= learnFrom) reads[id] += Math.pow(2, (t - w.t0) / 1000 / readHl);
  };

  const beforeRank = (now: number, today: number): void => {
    day = today;
    if (v.rates === 'true') {
      if (today !== truthDay) {
        truth = trueRates(w, today);
        truthDay = today;
      }
      return;
    }
    while (warmIdx < w.warmReadAt.length && w.warmReadAt[warmIdx] <= now) {
      countRead(w.warmReadAt[warmIdx], w.warmReadId[warmIdx]);
      warmIdx++;
    }
    while (readIdx < w.readAt.length && w.readAt[readIdx] <= now) {
      countRead(w.readAt[readIdx], w.readId[readIdx]);
      readIdx++;
    }
    readScale = readRate(Math.pow(2, -(now - w.t0) / 1000 / readHl), readHl);
    if (now - poolsAt >= POOL_EVERY_MS || Math.floor((poolsAt - firstMidnight) / DAY) !== today)
      refreshPools(now, today);
    for (const id of dirty) lambda[id] = rateOfId(id, today);
    dirty.clear();
  };
  const valueOf = (id: number, now: number, lastSuccessMs: number): number => {
    const age = Number.isNaN(lastSuccessMs) ? null : (now - lastSuccessMs) / 1000;
    if (v.rates === 'true') {
      const i = id - day * n;
      return form(truth!.read[i], truth!.change[i] * 1000, age);
    }
    return form(reads[id] * readScale, lambda[id], age);
  };

  const syncs: SyncRecord[] = [];
  const onAnswer = (id: number, sentAt: number, answeredAt: number): void => {
    syncs.push({ id, sentAt, answeredAt });
    if (v.rates !== 'learned' || sentAt < learnFrom) return;
    const prev = prevSent[id];
    prevSent[id] = sentAt;
    if (Number.isNaN(prev) || prev < learnFrom) return;
    const changed = versionAt(w.times[id], sentAt) > versionAt(w.times[id], prev);
    own[id] = observeChange(own[id], { tauSeconds: (sentAt - prev) / 1000, changed }, changeHl);
    dirty.add(id);
  };
  const model = simulateDueList({
    ...MODEL_RUN,
    limit: w.o.limit ?? MODEL_RUN.limit,
    windows: SYNC_WINDOWS,
    products: n,
    keys: w.o.keys,
    start: w.o.start,
    warmupMs: w.o.warmupMs,
    measureMs: w.o.measureMs,
    onAnswer,
    value: {
      valueOf,
      beforeRank,
      floorsOf: (policy) =>
        HORIZON_NAMES.map((h) => floorSeconds(policy, v.floorWithinCapacity)[h]),
      floorPace: v.floorPace ?? FLOOR_PACE,
      floorOrder: v.floorOrder,
      neverFirst: v.neverFirst,
      marginMs: valueRuleTiming(MODEL_RUN.windowMs).marginMs,
      budgetShare: v.budgetShare ?? DEFAULT_BUDGET_SHARE,
      rerankMs: valueRuleTiming(MODEL_RUN.windowMs).rerankMs,
    },
  });
  return { syncs, model };
}

/** A product-date's true rates on a day: change per ms (Δ) and relative reads (μ). */
export interface TrueRates {
  change: Float64Array;
  read: Float64Array;
}

/** The true rates of the dates today .. today + 59 (`today`: day index from the first). */
export function trueRates(w: World, today: number): TrueRates {
  const n = w.o.products;
  const change = new Float64Array(SPAN * n);
  const read = new Float64Array(SPAN * n);
  for (let d = 0; d < SPAN; d++) {
    for (let p = 0; p < n; p++) {
      const id = (today + d) * n + p;
      change[d * n + p] = w.empty[id] ? 0 : changeRatePerHour(w.params, p + 1, d) / HOUR;
      read[d * n + p] = readWeight(w.o.reads, p + 1, d);
    }
  }
  return { change, read };
}

/** Refresh rates (per ms) of the SPAN × products entries of a day (offset * n + p), Σ = budget. */
export type Allocation = (rates: TrueRates, budgetPerMs: number) => Float64Array;

export const uniform: Allocation = (r, budget) =>
  new Float64Array(r.change.length).fill(budget / r.change.length);

export const proportional: Allocation = (r, budget) => {
  const total = r.change.reduce((a, b) => a + b, 0);
  return r.change.map((c) => (budget * c) / total);
};

/**
 * Azar et al. (PNAS 2018): maximise Σ μ·ρ/(ρ+Δ) subject to Σρ = budget; the optimum is
 * ρ = max(0, √(μΔ/λ) − Δ), λ found by bisection (Σρ falls as λ grows).
 */
export const oracle: Allocation = (r, budget) => {
  const rho = (lambda: number): Float64Array =>
    r.change.map((d, i) => Math.max(0, Math.sqrt((r.read[i] * d) / lambda) - d));
  const sum = (lambda: number): number => rho(lambda).reduce((a, b) => a + b, 0);
  let lo = 1e-30;
  let hi = 1e30;
  for (let i = 0; i < 200; i++) {
    const mid = Math.sqrt(lo * hi);
    if (sum(mid) > budget) lo = mid;
    else hi = mid;
  }
  return rho(Math.sqrt(lo * hi));
};

/**
 * A deterministic schedule of an allocation: one call every 1 ÷ budget ms (the key's pace; never
 * more than its limit in a window), each to the product-date whose next refresh (last + 1 ÷ ρ,
 * a date never synced first) is earliest. Rates are reallocated at each midnight (days ahead move).
 */
export function scheduledSyncs(w: World, allocate: Allocation): SyncRecord[] {
  const n = w.o.products;
  let alloc: Float64Array = new Float64Array(0);
  const gap = 1 / w.budgetPerMs;
  const firstMidnight = Date.parse(`${w.firstDay}T00:00:00Z`);
  const u = seededUniform(w.o.change.seed * 104_729 + 3);
  const phase = Float64Array.from({ length: w.size }, () => u());
  const last = new Float64Array(w.size).fill(NaN);
  const syncs: SyncRecord[] = [];
  let heap: Heap = new Heap();
  let today = -1;
  for (let t = w.t0; t < w.end; t += gap) {
    const day = Math.floor((t - firstMidnight) / DAY);
    if (day !== today) {
      today = day;
      alloc = allocate(trueRates(w, today), w.budgetPerMs);
      heap = new Heap();
      for (let d = 0; d < SPAN; d++) {
        for (let p = 0; p < n; p++) {
          const rho = alloc[d * n + p];
          const id = (today + d) * n + p;
          const step = rho > 0 ? 1 / rho : Infinity;
          // A date never synced (all at the start, then each midnight's new last date) is
          // fetched first, as the service's boot and its windows do; then at its rate.
          if (Number.isNaN(last[id])) heap.push(t + phase[id], id, step);
          else if (rho > 0) heap.push(last[id] + step, id, step);
        }
      }
    }
    const top = heap.pop();
    if (!top) continue;
    last[top.id] = t;
    syncs.push({ id: top.id, sentAt: t, answeredAt: t + MODEL_RUN.latencyMs });
    if (Number.isFinite(top.step)) heap.push(Math.max(top.key, t) + top.step, top.id, top.step);
  }
  syncs.sort((a, b) => a.answeredAt - b.answeredAt);
  return syncs;
}

/** A binary min-heap of (next instant, id, interval). */
class Heap {
  private k: number[] = [];
  private v: number[] = [];
  private s: number[] = [];
  push(key: number, id: number, step: number): void {
    let i = this.k.push(key) - 1;
    this.v.push(id);
    this.s.push(step);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.k[p] <= this.k[i]) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { key: number; id: number; step: number } | null {
    if (this.k.length === 0) return null;
    const top = { key: this.k[0], id: this.v[0], step: this.s[0] };
    const lk = this.k.pop()!;
    const lv = this.v.pop()!;
    const ls = this.s.pop()!;
    if (this.k.length > 0) {
      this.k[0] = lk;
      this.v[0] = lv;
      this.s[0] = ls;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.k.length && this.k[l] < this.k[m]) m = l;
        if (r < this.k.length && this.k[r] < this.k[m]) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private swap(i: number, j: number): void {
    [this.k[i], this.k[j]] = [this.k[j], this.k[i]];
    [this.v[i], this.v[j]] = [this.v[j], this.v[i]];
    [this.s[i], this.s[j]] = [this.s[j], this.s[i]];
  }
}
