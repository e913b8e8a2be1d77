import { CronTime } from 'cron';
import type { CapacityPlan } from '../sync-status.types';
import { SYNC_WINDOWS, type SyncWindow } from '../sync-window';
import { cronOf, WINDOW_DAYS, type WindowCrons } from './windows';

export const CAPACITY_POLICY = 'today first, then the next 7 days, then the rest';

const DAY_MS = 86_400_000;
/** Enough firings to measure any real schedule over a week; per-second test crons get extrapolated. */
const MAX_FIRINGS_PER_WINDOW = 5_000;

/** Partner calls one product costs per day with the configured crons. */
export interface PerProductCalls {
  /** Quarter-hourly + four-hourly + daily windows, overlapping product-dates fetched once. */
  coreWithDedupe: number;
  /** The same windows fetched independently (the seed's behaviour). */
  coreWithoutDedupe: number;
  /** The extended (days 30..59) window, averaged per day over its period. */
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

/**
 * Calls per product per day the schedule needs, counted by walking one week of firings from
 * `start`: at each instant the windows firing together fetch the union of their day ranges once
 * (the limiter dedupes a product-date already queued or in flight).
 */
export function callsPerProduct(
  crons: WindowCrons,
  timeZone: string,
  start: Date,
): PerProductCalls {
  let spanEnd = start.getTime() + 7 * DAY_MS;
  const byWindow = new Map<SyncWindow, number[]>();
  for (const w of SYNC_WINDOWS) {
    const f = firings(cronOf(w, crons), timeZone, start, spanEnd);
    byWindow.set(w, f);
    if (f.length === MAX_FIRINGS_PER_WINDOW) spanEnd = Math.min(spanEnd, f[f.length - 1] + 1);
  }
  const days = (spanEnd - start.getTime()) / DAY_MS;
  const instants = new Map<number, SyncWindow[]>();
  for (const [w, f] of byWindow) {
    for (const t of f) {
      if (t >= spanEnd) break;
      const list = instants.get(t) ?? [];
      list.push(w);
      instants.set(t, list);
    }
  }
  let core = 0;
  let coreNoDedupe = 0;
  let extended = 0;
  for (const windows of instants.values()) {
    const offsets = new Set<number>();
    for (const w of windows) {
      const { from, to } = WINDOW_DAYS[w];
      const size = to - from + 1;
      if (w === 'extended') extended += size;
      else coreNoDedupe += size;
      for (let o = from; o <= to; o++) offsets.add(o);
    }
    // Calls of this instant not already counted as extended ones.
    core +=
      offsets.size -
      (windows.includes('extended') ? WINDOW_DAYS.extended.to - WINDOW_DAYS.extended.from + 1 : 0);
  }
  const round = (n: number): number => Math.round((n / days) * 100) / 100;
  const coreWithDedupe = round(core);
  const ext = round(extended);
  return {
    coreWithDedupe,
    coreWithoutDedupe: round(coreNoDedupe),
    extended: ext,
    total: Math.round((coreWithDedupe + ext) * 100) / 100,
  };
}

/**
 * The capacity plan of `products` products: calls per day needed (with and without dedupe) vs
 * what the key allows (limit per window scaled to a day), and how many products fit.
 */
export function capacityPlan(input: {
  products: number;
  /** From callsPerProduct (walking cron firings is slow: compute it once per schedule). */
  perProduct: PerProductCalls;
  rateLimit: number;
  rateWindowMs: number;
}): CapacityPlanDetail {
  const { perProduct } = input;
  const allowed = Math.floor(input.rateLimit * (DAY_MS / input.rateWindowMs));
  const needed = Math.ceil(input.products * perProduct.total);
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
    perProduct,
  };
}
