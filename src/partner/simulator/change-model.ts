/**
 * The simulated partner's change model: every product-date changes as a Poisson process whose
 * rate grows with the product's popularity (Zipf: product id k is the k-th most read, weight
 * k^-skew) and halves every `halfLifeDays` days ahead. Events are sales (seats down, to sold out),
 * cancellations (seats back) and price moves. Pure and seeded: the events of a product-date in
 * any interval come from a PRNG keyed by (seed, product, date, hour), so the simulator's answers,
 * its truth endpoint and the virtual-time benchmark all run this same code and agree.
 */
import type { WirePax, WireSlot } from './simulator-data';

export interface ChangeModelParams {
  /** Changes per hour of the most popular product (id 1) on today's date. */
  ratePerHour: number;
  /** Zipf exponent: product id k changes (and is read) k^-skew times as often as product 1. */
  popularitySkew: number;
  /** Days ahead over which a date's change rate halves. */
  halfLifeDays: number;
  /** Shares of sales and cancellations among events; the rest are price moves. */
  saleShare: number;
  cancelShare: number;
  /** Seats of a slot at the start (1..seats, by slot); sales and cancellations move within it. */
  seats: number;
  seed: number;
  /** Epoch ms before which nothing changes: every product-date is its initial state until then. */
  startMs: number;
}

export const DEFAULT_CHANGE_MODEL: Omit<ChangeModelParams, 'startMs'> = {
  ratePerHour: 6,
  popularitySkew: 1,
  // Bookings come closer to the date than browsing does (read demand halves every 7 days).
  halfLifeDays: 3,
  saleShare: 0.5,
  cancelShare: 0.2,
  seats: 12,
  seed: 1,
};

export type ChangeKind = 'sale' | 'cancel' | 'price';

/** One event as drawn: when, what kind, and three uniforms that pick the slot and the size. */
export interface ChangeEvent {
  at: number;
  kind: ChangeKind;
  slotPick: number;
  size: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** How long before its day a date starts changing (the dates API shows today + 59). */
export const ON_SALE_DAYS = 60;

/** A product's popularity: 1 for product 1, k^-skew for product k (ids are popularity ranks). */
export function popularity(productId: number, skew: number): number {
  return Math.pow(Math.max(1, productId), -skew);
}

/** Whole UTC days from the day of `atMs` to `date` (negative: the date has passed). */
export function daysAhead(date: string, atMs: number): number {
  return Math.round(
    (Date.parse(`${date}T00:00:00Z`) - Math.floor(atMs / DAY_MS) * DAY_MS) / DAY_MS,
  );
}

/** The change rate (per hour) of a product-date `days` days ahead; 0 once the date has passed. */
export function changeRatePerHour(p: ChangeModelParams, productId: number, days: number): number {
  if (days < 0) return 0;
  return (
    p.ratePerHour * popularity(productId, p.popularitySkew) * Math.pow(2, -days / p.halfLifeDays)
  );
}

/** 32-bit integer mix (murmur3's finaliser) of several integers. */
function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

const dayNumber = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);

/**
 * The events of one product-date in (fromMs, toMs], in time order. Each hour has a constant rate
 * (days ahead changes only at a UTC midnight) and its own PRNG, so any interval is drawn without
 * replaying earlier ones; exponential gaps restarted at each hour are still a Poisson process.
 */
export function eventsBetween(
  p: ChangeModelParams,
  productId: number,
  date: string,
  fromMs: number,
  toMs: number,
  firstOnly = false,
): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  const day = dayNumber(date);
  const dateStart = day * DAY_MS;
  // A date is on sale (and changes) from ON_SALE_DAYS before it until its day ends.
  const from = Math.max(fromMs, p.startMs, dateStart - ON_SALE_DAYS * DAY_MS);
  const to = Math.min(toMs, dateStart + DAY_MS);
  if (!(to > from)) return out;
  const hourly = p.ratePerHour * popularity(productId, p.popularitySkew);
  for (let hour = Math.floor(from / HOUR_MS); hour * HOUR_MS < to; hour++) {
    const start = hour * HOUR_MS;
    const days = (dateStart - Math.floor(start / DAY_MS) * DAY_MS) / DAY_MS;
    const rate = (hourly * Math.pow(2, -days / p.halfLifeDays)) / HOUR_MS;
    if (!(rate > 0)) continue;
    const u = seededUniform(mix(p.seed, productId, day, hour));
    let at = start;
    for (;;) {
      at += -Math.log(1 - u()) / rate;
      if (at >= start + HOUR_MS || at > to) break;
      const k = u();
      const kind: ChangeKind =
        k < p.saleShare ? 'sale' : k < p.saleShare + p.cancelShare ? 'cancel' : 'price';
      const event = { at, kind, slotPick: u(), size: u() };
      if (at <= from) continue;
      out.push(event);
      if (firstOnly) return out;
    }
  }
  return out;
}

/** True when the product-date changed in (fromMs, toMs]: a copy taken at fromMs is stale at toMs. */
export function changedBetween(
  p: ChangeModelParams,
  productId: number,
  date: string,
  fromMs: number,
  toMs: number,
): boolean {
  return eventsBetween(p, productId, date, fromMs, toMs, true).length > 0;
}

/** A slot's starting seats under the model (1..seats), fixed by seed, product, date and slot. */
function initialSeats(p: ChangeModelParams, productId: number, date: string, i: number): number {
  return 1 + (mix(p.seed, productId, dayNumber(date), i, 7) % Math.max(1, p.seats));
}

const cents = (price: number): number => Math.round(price * 100);

function withSeats(slot: WireSlot, seats: number): void {
  slot.remaining = seats;
  for (const pax of slot.paxAvailability) pax.remaining = seats;
}

function movePrice(pax: WirePax, size: number, up: boolean): void {
  const original = cents(pax.price.originalPrice);
  const final = cents(pax.price.finalPrice);
  if (original <= 0) return;
  const floor = Math.ceil(original / 2);
  const step = Math.max(1, Math.round(final * (0.01 + 0.09 * size)));
  let next = up ? final + step : final - step;
  // Blocked one way (never above the original price, never below half of it): the other way.
  if (next > original || next < floor) next = up ? final - step : final + step;
  next = Math.min(original, Math.max(floor, next));
  pax.price.finalPrice = next / 100;
  pax.price.discount = (original - next) / 100;
}

/**
 * Applies events to a product-date's slots (mutating them). Every event changes the answer: a
 * sale on a sold-out slot takes the next slot with seats (none: a price move), a cancellation on
 * a full slot the next slot below its seats (none: a sale).
 */
export function applyEvents(
  p: ChangeModelParams,
  productId: number,
  date: string,
  slots: WireSlot[],
  events: readonly ChangeEvent[],
): void {
  const n = slots.length;
  if (n === 0) return;
  const capacity = slots.map((_, i) => initialSeats(p, productId, date, i));
  const find = (from: number, ok: (i: number) => boolean): number => {
    for (let j = 0; j < n; j++) if (ok((from + j) % n)) return (from + j) % n;
    return -1;
  };
  for (const e of events) {
    const pick = Math.floor(e.slotPick * n) % n;
    let kind = e.kind;
    if (kind === 'cancel' && find(pick, (i) => slots[i].remaining < capacity[i]) < 0) kind = 'sale';
    if (kind === 'sale' && find(pick, (i) => slots[i].remaining > 0) < 0) kind = 'price';
    const quantity = 1 + Math.floor(e.size * 3);
    if (kind === 'sale') {
      const i = find(pick, (j) => slots[j].remaining > 0);
      withSeats(slots[i], Math.max(0, slots[i].remaining - quantity));
    } else if (kind === 'cancel') {
      const i = find(pick, (j) => slots[j].remaining < capacity[j]);
      withSeats(slots[i], Math.min(capacity[i], slots[i].remaining + quantity));
    } else {
      const up = e.size >= 0.5;
      for (const pax of slots[pick].paxAvailability) movePrice(pax, (e.size * 2) % 1, up);
    }
  }
}

/**
 * The product-date's answer at `atMs`: `base` (the simulator's generated slots) with the model's
 * starting seats, then every event since the model started. Does not mutate `base`.
 */
export function stateAt(
  p: ChangeModelParams,
  productId: number,
  date: string,
  base: readonly WireSlot[],
  atMs: number,
): WireSlot[] {
  const slots = structuredClone(base) as WireSlot[];
  slots.forEach((s, i) => withSeats(s, initialSeats(p, productId, date, i)));
  applyEvents(p, productId, date, slots, eventsBetween(p, productId, date, -Infinity, atMs));
  return slots;
}
