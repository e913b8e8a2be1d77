import { CronTime } from 'cron';
import { expectedWorstAgeSeconds, stretchFactor, type SyncPolicy } from '../policy/sync-policy';
import type { CapacityPlan } from '../sync-status.types';
import { SYNC_WINDOWS, type SyncWindow } from '../sync-window';
import { cronOf, WINDOW_DAYS, type WindowCrons } from './windows';

export const CAPACITY_POLICY =
  'the most overdue first: within capacity today first, then by time overdue (each horizon at most its target plus one drain); over capacity by age ÷ target, every horizon stretching by the same factor, +30..+59 by a tenth of it';

const DAY_MS = 86_400_000;
/**
 * Walking cron firings costs ~5 ms each (luxon in the zone): bounded, and per-second test crons
 * are extrapolated from the span they cover.
 */
const MAX_FIRINGS_PER_WINDOW = 1_000;

/** Partner calls one product costs per day with the configured crons. */
export interface PerProductCalls {
  /** Quarter-hourly + four-hourly + daily windows, overlapping product-dates fetched once. */
  coreWithDedupe: number;
  /** The same windows fetched independently (the seed's behaviour). */
  coreWithoutDedupe: number;
  /** The extended (days 30..59) window, averaged per day over a week. */
  extended: number;
  /** What the budget must cover per product per day: coreWithDedupe + extended. */
  total: number;
}

export interface CapacityPlanDetail extends CapacityPlan {
  perProduct: PerProductCalls;
}

function firings(cron: string, timeZone: string, start: Date, end: number): number[] {
  const time = new CronTime(cron, timeZone);
  const out: number[] = [];
  let at = time.getNextDateFrom(new Date(start.getTime() - 1), timeZone);
  while (at.toMillis() < end && out.length < MAX_FIRINGS_PER_WINDOW) {
    out.push(at.toMillis());
    at = time.getNextDateFrom(at, timeZone);
  }
  return out;
}

const size = (w: SyncWindow): number => WINDOW_DAYS[w].to - WINDOW_DAYS[w].from + 1;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * Calls per product per day the schedule needs. The core windows are walked over the day from
 * `start`: at each instant the windows firing together fetch the union of their day ranges once
 * (SyncService and the limiter dedupe a product-date). The extended window covers days no other
 * window does, so it is counted on its own over a week.
 */
export function callsPerProduct(
  crons: WindowCrons,
  timeZone: string,
  start: Date,
): PerProductCalls {
  const core = SYNC_WINDOWS.filter((w) => w !== 'extended');
  let spanEnd = start.getTime() + DAY_MS;
  const byWindow = new Map<SyncWindow, number[]>();
  for (const w of core) {
    const f = firings(cronOf(w, crons), timeZone, start, spanEnd);
    byWindow.set(w, f);
    if (f.length === MAX_FIRINGS_PER_WINDOW) spanEnd = Math.min(spanEnd, f[f.length - 1] + 1);
  }
  const days = (spanEnd - start.getTime()) / DAY_MS;
  const instants = new Map<number, SyncWindow[]>();
  let withoutDedupe = 0;
  for (const [w, f] of byWindow) {
    for (const t of f) {
      if (t >= spanEnd) break;
      instants.set(t, [...(instants.get(t) ?? []), w]);
      withoutDedupe += size(w);
    }
  }
  let withDedupe = 0;
  for (const windows of instants.values()) {
    const offsets = new Set<number>();
    for (const w of windows)
      for (let o = WINDOW_DAYS[w].from; o <= WINDOW_DAYS[w].to; o++) offsets.add(o);
    withDedupe += offsets.size;
  }
  const weekEnd = start.getTime() + 7 * DAY_MS;
  const ext = firings(crons.extended, timeZone, start, weekEnd);
  const extDays =
    ((ext.length === MAX_FIRINGS_PER_WINDOW ? ext[ext.length - 1] + 1 : weekEnd) -
      start.getTime()) /
    DAY_MS;
  const coreWithDedupe = round2(withDedupe / days);
  const extended = round2((ext.length * size('extended')) / extDays);
  return {
    coreWithDedupe,
    coreWithoutDedupe: round2(withoutDedupe / days),
    extended,
    total: round2(coreWithDedupe + extended),
  };
}

interface PlanInput {
  products: number;
  perProduct: PerProductCalls;
  /** Per key. */
  rateLimit: number;
  rateWindowMs: number;
  /** How many partner keys share the work (PARTNER_API_KEYS); 1 when not given. */
  keys?: number;
}

/** Calls per day the products need and the keys allow (each key's limit scaled to a day). */
function callsPerDay(input: PlanInput): { needed: number; allowed: number } {
  return {
    needed: Math.ceil(input.products * input.perProduct.total),
    allowed: Math.floor((input.keys ?? 1) * input.rateLimit * (DAY_MS / input.rateWindowMs)),
  };
}

/** The plan's stretch factor (calls needed ÷ calls allowed): what the SyncPolicy is built for. */
export function planStretch(input: PlanInput): number {
  const { needed, allowed } = callsPerDay(input);
  return stretchFactor(needed, allowed);
}

/**
 * The capacity plan of `products` products: calls per day needed (with and without dedupe) vs
 * what the keys allow (each key's limit per window scaled to a day, summed over the keys: every
 * key has its own budget), and how many products fit.
 */
export function capacityPlan(
  input: PlanInput & {
    policy: SyncPolicy;
    /** From callsPerProduct (walking cron firings is slow: compute it once per schedule). */
    perProduct: PerProductCalls;
  },
): CapacityPlanDetail {
  const { perProduct } = input;
  const { needed, allowed } = callsPerDay(input);
  const withoutDedupe = Math.ceil(
    input.products * (perProduct.coreWithoutDedupe + perProduct.extended),
  );
  return {
    products: input.products,
    callsPerDayNeeded: needed,
    callsPerDayWithoutDedupe: withoutDedupe,
    callsPerDayAllowed: allowed,
    maxProducts:
      perProduct.total > 0 ? Math.floor(allowed / perProduct.total) : Number.MAX_SAFE_INTEGER,
    overCapacity: needed > allowed,
    policy: CAPACITY_POLICY,
    stretchFactor: Math.round(stretchFactor(needed, allowed) * 1000) / 1000,
    expectedWorstAgeSeconds: expectedWorstAgeSeconds(input.policy, stretchFactor(needed, allowed)),
    perProduct,
  };
}
