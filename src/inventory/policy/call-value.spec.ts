import fc from 'fast-check';
import type { Client } from 'pg';
import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import {
  assertParity,
  describeOnPostgresAndPglite,
  query,
  unnestRows,
} from '../../../test/support/sql-parity';
import { Prisma } from '../../generated/prisma/client';
import {
  callValue,
  callValueSql,
  floorSeconds,
  gainShape,
  OVER_CAPACITY_FLOOR_MARGIN,
  staleReadRate,
  valueRuleTiming,
} from './call-value';
import { buildSyncPolicy, expectedWorstAgeSeconds } from './sync-policy';

const HOUR = 3600;

describe('callValue', () => {
  it('is the marginal gain of a periodic refresh: μ·[(1 − e^{−λa})/λ − a·e^{−λa}]', () => {
    const mu = 0.02;
    const lambda = 1 / HOUR;
    for (const a of [60, 900, HOUR, 6 * HOUR, 48 * HOUR]) {
      const direct = mu * ((1 - Math.exp(-lambda * a)) / lambda - a * Math.exp(-lambda * a));
      expect(callValue(mu, lambda, a)).toBeCloseTo(direct, 12);
    }
  });

  it('grows with the age and is bounded by μ ÷ λ, the value of a copy never synced', () => {
    const mu = 3;
    const lambda = 2 / HOUR;
    let previous = 0;
    for (let a = 60; a <= 100 * HOUR; a *= 2) {
      const v = callValue(mu, lambda, a);
      // Strictly while e^{−λa} still shows in a double; then it is μ ÷ λ to the last digit.
      if (lambda * a < 30) expect(v).toBeGreaterThan(previous);
      expect(v).toBeLessThanOrEqual(mu / lambda);
      previous = v;
    }
    expect(callValue(mu, lambda, null)).toBe(mu / lambda);
  });

  it('is 0 without reads, without changes, or just synced', () => {
    expect(callValue(0, 1 / HOUR, HOUR)).toBe(0);
    expect(callValue(1, 0, HOUR)).toBe(0);
    expect(callValue(1, 1 / HOUR, 0)).toBe(0);
    expect(callValue(1, 1 / HOUR, -5)).toBe(0);
  });

  it('ranks a read-heavy, changing product-date above a cold one of the same age', () => {
    const hot = callValue(10, 1 / HOUR, HOUR);
    const coldReads = callValue(0.1, 1 / HOUR, HOUR);
    const coldChanges = callValue(10, 1 / (30 * 24 * HOUR), HOUR);
    expect(hot).toBeGreaterThan(coldReads);
    expect(hot).toBeGreaterThan(coldChanges);
  });

  it('stops pulling calls to a product-date that changes far faster than it is read', () => {
    // Same reads; one changes every minute, one every hour: after an hour the slow one is worth
    // more (its refresh keeps a copy fresh for a while), where the stale-read rate ties them.
    const fast = callValue(1, 1 / 60, HOUR);
    const slow = callValue(1, 1 / HOUR, HOUR);
    expect(slow).toBeGreaterThan(fast);
    expect(staleReadRate(1, 1 / 60, HOUR)).toBeGreaterThan(staleReadRate(1, 1 / HOUR, HOUR));
  });

  it('keeps its digits where λa is tiny (series below the cancellation)', () => {
    for (const x of [1e-9, 1e-6, 5e-5, 2e-4]) {
      // g(x) = x/2 − x²/3 + x³/8 − …
      const series = x / 2 - (x * x) / 3 + (x * x * x) / 8;
      expect(Math.abs(gainShape(x) - series) / series).toBeLessThan(1e-7);
    }
  });
});

describe('valueRuleTiming', () => {
  it('is in units of the partner window, so a compressed window keeps the proportions', () => {
    expect(valueRuleTiming(60_000)).toEqual({
      rerankMs: 20_000,
      marginMs: 120_000,
      bucketMs: 60_000,
      usedUpMs: 5_000,
      pollMs: 1_000,
    });
    // A 1 s window (the accuracy bench's ×60): an idle poll of a whole second would leave the
    // window's spare room unseen for a window's worth of calls.
    expect(valueRuleTiming(1_000).pollMs).toBeCloseTo(1_000 / 60);
  });
});

describe('floorSeconds', () => {
  const crons = DEFAULT_CRONS;
  const at = new Date('2026-12-01T00:00:00Z');

  it('is the target within capacity', () => {
    const policy = buildSyncPolicy(crons, 'UTC', at, 0.8);
    const floors = floorSeconds(policy);
    for (const h of policy.horizons) expect(floors[h.name]).toBe(h.targetSeconds);
  });

  it("as the model's 'margin' variant, meets the over-capacity floors at stretch 1 without a jump", () => {
    const near = floorSeconds(buildSyncPolicy(crons, 'UTC', at, 0.999), 'margin');
    const over = floorSeconds(buildSyncPolicy(crons, 'UTC', at, 1.001), 'margin');
    const well = buildSyncPolicy(crons, 'UTC', at, 0.5);
    for (const h of well.horizons) {
      expect(Math.abs(near[h.name] - over[h.name]) / over[h.name]).toBeLessThan(0.01);
      // Well within capacity (0.5 × every margin ≤ 1) the targets.
      expect(floorSeconds(well, 'margin')[h.name]).toBe(h.targetSeconds);
    }
  });

  it('is the bound the issue keeps at 450 products on one key (stretch 1.66) over capacity', () => {
    const policy = buildSyncPolicy(crons, 'UTC', at, 1.659);
    const floors = floorSeconds(policy);
    expect(floors.today).toBeLessThanOrEqual(30 * 60);
    expect(floors.week).toBeLessThanOrEqual(12 * HOUR);
    expect(floors.month).toBeLessThanOrEqual(48 * HOUR);
    expect(floors.extended).toBeLessThanOrEqual(8 * 24 * HOUR);
    const worst = expectedWorstAgeSeconds(policy, policy.stretch);
    for (const h of policy.horizons) {
      expect(floors[h.name]).toBe(Math.round(worst[h.name] * OVER_CAPACITY_FLOOR_MARGIN[h.name]));
      expect(floors[h.name]).toBeGreaterThan(worst[h.name]);
    }
  });
});

interface Row {
  mu: number;
  lambda: number;
  age: number | null;
}

/**
 * 10^e for e in [lo, hi]: every magnitude as likely (so every branch of g is reached). The
 * exponent is a whole number of thousandths: fc.double picks among representable doubles, most of
 * which lie next to 0, so an exponent drawn by it is nearly always 0 or a bound.
 */
const magnitude = (lo: number, hi: number) =>
  fc.integer({ min: lo * 1000, max: hi * 1000 }).map((k) => Math.pow(10, k / 1000));

const rowArb: fc.Arbitrary<Row> = fc.record({
  // Reads and changes per second over the magnitudes the service sees (and 0).
  mu: fc.oneof(fc.constant(0), magnitude(-8, 2)),
  lambda: fc.oneof(fc.constant(0), magnitude(-9, 0)),
  // Never synced, a little in the future (clocks), just synced, or 1 ms to 60 days.
  age: fc.option(
    fc.oneof(fc.constant(0), fc.double({ min: -60, max: 0, noNaN: true }), magnitude(-3, 6.7)),
    { nil: null },
  ),
});

async function valuesBySql(db: Client, rows: Row[]): Promise<Array<{ value: number }>> {
  const frag = callValueSql({
    readRate: Prisma.sql`u.mu`,
    changeRate: Prisma.sql`u.lambda`,
    ageSeconds: Prisma.sql`u.age`,
  });
  const u = unnestRows(rows, {
    mu: ['float8', (r) => r.mu],
    lambda: ['float8', (r) => r.lambda],
    age: ['float8', (r) => r.age],
  });
  const out = await query<{ value: number }>(
    db,
    Prisma.sql`SELECT (${frag})::float8 AS value FROM ${u} ORDER BY u.idx`,
  );
  return out.map((r) => ({ value: Number(r.value) }));
}

describeOnPostgresAndPglite('call value parity', (db) => {
  it('the SQL and the TypeScript value agree on random rows', () =>
    assertParity(fc.array(rowArb, { minLength: 1, maxLength: 50 }), {
      rows: (rows) => rows,
      byTypeScript: (rows) => rows.map((r) => ({ value: callValue(r.mu, r.lambda, r.age) })),
      bySql: (rows) => valuesBySql(db(), rows),
      tolerance: { floor: 1e-300 },
      numRuns: 100,
    }));
});
