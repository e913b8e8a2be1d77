import {
  applyEvents,
  changedBetween,
  changeRatePerHour,
  DEFAULT_CHANGE_MODEL,
  eventsBetween,
  popularity,
  stateAt,
  type ChangeModelParams,
} from './change-model';
import { simulatedInventory } from './simulator-data';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse('2025-04-01T00:00:00Z');
const params: ChangeModelParams = { ...DEFAULT_CHANGE_MODEL, halfLifeDays: 7, startMs: START };

describe('change model rates', () => {
  it.each([
    // product, days ahead, expected per hour (6 × k^-1 × 2^(-days/7))
    [1, 0, 6],
    [2, 0, 3],
    [10, 0, 0.6],
    [1, 7, 3],
    [1, 14, 1.5],
    [4, 7, 0.75],
    [1, -1, 0],
  ])('product %i, %i days ahead: %f per hour', (product, days, expected) => {
    expect(changeRatePerHour(params, product, days)).toBeCloseTo(expected, 10);
  });

  it('popularity is Zipf over product ids', () => {
    expect(popularity(1, 1.2)).toBe(1);
    expect(popularity(8, 1)).toBeCloseTo(1 / 8, 12);
    expect(popularity(3, 0)).toBe(1);
  });
});

describe('change model events', () => {
  it('are the same for the same seed and differ for another', () => {
    const a = eventsBetween(params, 1, '2025-04-02', START, START + DAY);
    const b = eventsBetween(params, 1, '2025-04-02', START, START + DAY);
    const c = eventsBetween({ ...params, seed: 2 }, 1, '2025-04-02', START, START + DAY);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('of an interval are the union of its parts, whatever the cut', () => {
    const whole = eventsBetween(params, 3, '2025-04-03', START, START + 2 * DAY);
    const cut = START + 17 * HOUR + 1234;
    const parts = [
      ...eventsBetween(params, 3, '2025-04-03', START, cut),
      ...eventsBetween(params, 3, '2025-04-03', cut, START + 2 * DAY),
    ];
    expect(parts).toEqual(whole);
    for (let i = 1; i < whole.length; i++) expect(whole[i].at).toBeGreaterThan(whole[i - 1].at);
  });

  it('happen at the model rate (Poisson counts over many hours)', () => {
    // Product 1, dates 3 days ahead all along: 6 × 2^(-3/7) ≈ 4.45 per hour.
    let count = 0;
    const days = 40;
    for (let d = 0; d < days; d++) {
      const from = START + d * DAY;
      const date = new Date(from + 3 * DAY).toISOString().slice(0, 10);
      count += eventsBetween(params, 1, date, from, from + DAY).length;
    }
    const expected = changeRatePerHour(params, 1, 3) * 24 * days;
    // ±4 standard deviations of a Poisson count.
    expect(Math.abs(count - expected)).toBeLessThan(4 * Math.sqrt(expected));
  });

  it('shares follow saleShare / cancelShare', () => {
    const events = eventsBetween(params, 1, '2025-04-20', START, START + 19 * DAY);
    const share = (k: string) => events.filter((e) => e.kind === k).length / events.length;
    expect(events.length).toBeGreaterThan(500);
    expect(share('sale')).toBeCloseTo(0.5, 1);
    expect(share('cancel')).toBeCloseTo(0.2, 1);
  });

  it('never happen before the model starts or after the date has passed', () => {
    expect(eventsBetween(params, 1, '2025-04-02', START - 5 * DAY, START)).toEqual([]);
    expect(eventsBetween(params, 1, '2025-04-02', START + 2 * DAY, START + 9 * DAY)).toEqual([]);
  });

  it('changedBetween is true exactly when an event falls in the interval', () => {
    const events = eventsBetween(params, 2, '2025-04-02', START, START + DAY);
    const first = events[0].at;
    expect(changedBetween(params, 2, '2025-04-02', START, first - 1)).toBe(false);
    expect(changedBetween(params, 2, '2025-04-02', START, first)).toBe(true);
    expect(changedBetween(params, 2, '2025-04-02', first, events[1].at - 0.001)).toBe(false);
  });
});

describe('change model state', () => {
  const base = simulatedInventory(7, '2025-04-02', 1, 0);

  it('starts from the model seats, the generated slots otherwise', () => {
    const s = stateAt(params, 7, '2025-04-02', base, START - 1);
    expect(s.map((x) => x.startTime)).toEqual(base.map((x) => x.startTime));
    for (const slot of s) {
      expect(slot.remaining).toBeGreaterThanOrEqual(1);
      expect(slot.remaining).toBeLessThanOrEqual(params.seats);
      for (const pax of slot.paxAvailability) expect(pax.remaining).toBe(slot.remaining);
    }
    expect(s[0].paxAvailability[0].price).toEqual(base[0].paxAvailability[0].price);
  });

  it('every event changes the answer', () => {
    const events = eventsBetween(params, 1, '2025-04-02', START, START + 2 * DAY);
    const slots = stateAt(
      params,
      1,
      '2025-04-02',
      simulatedInventory(1, '2025-04-02', 1, 0),
      START,
    );
    for (const e of events) {
      const before = JSON.stringify(slots);
      applyEvents(params, 1, '2025-04-02', slots, [e]);
      expect(JSON.stringify(slots)).not.toBe(before);
    }
  });

  it('a sale brings seats down, to sold out; a price stays within half..all of the original', () => {
    const slots = stateAt(
      params,
      1,
      '2025-04-02',
      simulatedInventory(1, '2025-04-02', 1, 0),
      START,
    );
    const seats = slots[0].remaining;
    const n = slots.length;
    applyEvents(params, 1, '2025-04-02', slots, [{ at: 0, kind: 'sale', slotPick: 0, size: 0 }]);
    expect(slots[0].remaining).toBe(seats - 1);
    for (let i = 0; i < 100; i++)
      applyEvents(params, 1, '2025-04-02', slots, [
        { at: 0, kind: 'sale', slotPick: 0, size: 0.9 },
      ]);
    expect(slots.every((s) => s.remaining === 0)).toBe(true);
    // All sold out: a sale turns into a price move; a cancellation brings seats back.
    applyEvents(params, 1, '2025-04-02', slots, [{ at: 0, kind: 'cancel', slotPick: 0, size: 0 }]);
    expect(slots[0].remaining).toBe(1);
    for (let i = 0; i < 200; i++)
      applyEvents(params, 1, '2025-04-02', slots, [
        { at: 0, kind: 'price', slotPick: 0.99 * (i / 200), size: (i * 0.37) % 1 },
      ]);
    for (const s of slots.slice(0, n)) {
      for (const pax of s.paxAvailability) {
        const { finalPrice, originalPrice, discount } = pax.price;
        expect(finalPrice).toBeLessThanOrEqual(originalPrice);
        expect(finalPrice * 2).toBeGreaterThanOrEqual(originalPrice - 0.01);
        expect(discount).toBeCloseTo(originalPrice - finalPrice, 2);
        expect(String(finalPrice)).toMatch(/^\d+(\.\d{1,2})?$/);
      }
    }
  });

  it('at t is the state at an earlier instant plus the events between', () => {
    const t1 = START + 10 * HOUR;
    const t2 = START + 30 * HOUR;
    const later = stateAt(params, 1, '2025-04-02', base, t1);
    applyEvents(params, 1, '2025-04-02', later, eventsBetween(params, 1, '2025-04-02', t1, t2));
    expect(later).toEqual(stateAt(params, 1, '2025-04-02', base, t2));
  });
});
