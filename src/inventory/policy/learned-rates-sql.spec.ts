import fc from 'fast-check';
import type { Client } from 'pg';
import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import {
  assertParity,
  closeTo,
  describeOnPostgresAndPglite,
  query,
  type Tolerance,
} from '../../../test/support/sql-parity';
import { Prisma } from '../../generated/prisma/client';
import {
  addReads,
  learnedChangeRate,
  NO_CHANGE_STATS,
  readRate,
  type ChangeStats,
} from './learned-rates';
import { horizonNamesSql, learnedRatesJoinSql, log1pSql } from './learned-rates-sql';
import { buildSyncPolicy, horizonForDay, type HorizonName } from './sync-policy';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date('2026-12-01T00:00:00Z'));
const PRODUCTS = [1, 2, 3, 4];

/** A sum as syncs leave it: often 0, else anything from a fraction to many (decayed) syncs. */
const countArb = fc.oneof(
  fc.constant(0),
  fc.double({ min: 1e-6, max: 500, noNaN: true }),
  fc.integer({ min: 1, max: 20 }),
);
const secondsArb = fc.oneof(
  fc.constant(0),
  fc.double({ min: 1e-3, max: 5e7, noNaN: true }),
  fc.integer({ min: 60, max: 604_800 }),
);
const statsArb: fc.Arbitrary<ChangeStats> = fc.record({
  changed: countArb,
  changedSeconds: secondsArb,
  unchanged: countArb,
  unchangedSeconds: secondsArb,
});

interface Case {
  fromMs: number;
  nowMs: number;
  halfLifeSeconds: number;
  rows: Array<{
    productId: number;
    day: number;
    own: ChangeStats;
    /** Its read_demand row: a count and how long ago it was brought up to date (ms); or none. */
    reads: { count: number; agoMs: number } | null;
  }>;
  /** change_rate_pools rows, by "productId:horizon". */
  pools: Map<string, ChangeStats>;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    fromDay: fc.integer({ min: 0, max: 3000 }),
    intoMs: fc.integer({ min: 0, max: DAY_MS - 1 }),
    halfLifeSeconds: fc.constantFrom(60, 3600, 21_600, 604_800),
    rows: fc.uniqueArray(
      fc.record({
        productId: fc.constantFrom(...PRODUCTS),
        day: fc.integer({ min: 0, max: policy.lastDay }),
        own: statsArb,
        // Up to 400 days ago (far past any half-life: the SQL must not underflow), or a clock
        // an hour ahead.
        reads: fc.option(
          fc.record({
            count: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1e6, noNaN: true })),
            agoMs: fc.integer({ min: -HOUR_MS, max: 400 * DAY_MS }),
          }),
          { nil: null },
        ),
      }),
      { minLength: 1, maxLength: 30, selector: (r) => `${r.productId}:${r.day}` },
    ),
    pools: fc.array(
      fc.tuple(
        fc.constantFrom(...PRODUCTS),
        fc.constantFrom(...policy.horizons.map((h) => h.name)),
        statsArb,
      ),
      { maxLength: 12 },
    ),
  })
  .map(({ fromDay, intoMs, halfLifeSeconds, rows, pools }) => {
    const fromMs = Date.parse('2020-01-01T00:00:00Z') + fromDay * DAY_MS;
    return {
      fromMs,
      nowMs: fromMs + intoMs,
      halfLifeSeconds,
      rows,
      pools: new Map(pools.map(([p, h, s]) => [`${p}:${h}`, s])),
    };
  });

const sum = (a: ChangeStats, b: ChangeStats): ChangeStats => ({
  changed: a.changed + b.changed,
  changedSeconds: a.changedSeconds + b.changedSeconds,
  unchanged: a.unchanged + b.unchanged,
  unchangedSeconds: a.unchangedSeconds + b.unchangedSeconds,
});

/** What learned-rates.ts gives for every row of `c`. */
function byTypeScript(c: Case): Array<{ change: number; read: number }> {
  const horizonPools = new Map<string, ChangeStats>();
  for (const [key, stats] of c.pools) {
    const h = key.slice(key.indexOf(':') + 1);
    horizonPools.set(h, sum(horizonPools.get(h) ?? NO_CHANGE_STATS, stats));
  }
  return c.rows.map((r) => {
    const h: HorizonName = horizonForDay(policy, r.day).name;
    const change = learnedChangeRate({
      own: r.own,
      productPool: c.pools.get(`${r.productId}:${h}`) ?? NO_CHANGE_STATS,
      horizonPool: horizonPools.get(h) ?? NO_CHANGE_STATS,
    });
    const read = r.reads
      ? readRate(
          addReads(r.reads.count, r.reads.agoMs / 1000, 0, c.halfLifeSeconds),
          c.halfLifeSeconds,
        )
      : 0;
    return { change, read };
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const dateOf = (c: Case, day: number) => iso(c.fromMs + day * DAY_MS).slice(0, 10);

/** The same rows written to the tables, ranked by the fragment, then rolled back. */
async function bySql(db: Client, c: Case): Promise<Array<{ change: number; read: number }>> {
  const run = (q: Prisma.Sql) => query(db, q);
  await db.query('BEGIN');
  try {
    await run(Prisma.sql`INSERT INTO products (id) SELECT unnest(${PRODUCTS}::int[])`);
    await run(Prisma.sql`
      INSERT INTO product_date_syncs (product_id, date, obs_changed, obs_changed_seconds,
                                      obs_unchanged, obs_unchanged_seconds)
      SELECT * FROM unnest(${c.rows.map((r) => r.productId)}::int[],
                           ${c.rows.map((r) => dateOf(c, r.day))}::date[],
                           ${c.rows.map((r) => r.own.changed)}::float8[],
                           ${c.rows.map((r) => r.own.changedSeconds)}::float8[],
                           ${c.rows.map((r) => r.own.unchanged)}::float8[],
                           ${c.rows.map((r) => r.own.unchangedSeconds)}::float8[])`);
    const reads = c.rows.filter((r) => r.reads);
    await run(Prisma.sql`
      INSERT INTO read_demand (product_id, date, reads, updated_at)
      SELECT * FROM unnest(${reads.map((r) => r.productId)}::int[],
                           ${reads.map((r) => dateOf(c, r.day))}::date[],
                           ${reads.map((r) => r.reads!.count)}::float8[],
                           ${reads.map((r) => iso(c.nowMs - r.reads!.agoMs))}::timestamptz[])`);
    const pools = [...c.pools];
    await run(Prisma.sql`
      INSERT INTO change_rate_pools (product_id, horizon, changed, changed_seconds, unchanged,
                                     unchanged_seconds, updated_at)
      SELECT *, now() FROM unnest(
        ${pools.map(([k]) => Number(k.slice(0, k.indexOf(':'))))}::int[],
        ${pools.map(([k]) => k.slice(k.indexOf(':') + 1))}::text[],
        ${pools.map(([, s]) => s.changed)}::float8[],
        ${pools.map(([, s]) => s.changedSeconds)}::float8[],
        ${pools.map(([, s]) => s.unchanged)}::float8[],
        ${pools.map(([, s]) => s.unchangedSeconds)}::float8[])`);
    const now = Prisma.sql`${iso(c.nowMs)}::timestamptz`;
    const rows = await query<{ product_id: number; date: string; change: number; read: number }>(
      db,
      Prisma.sql`
      WITH h AS (${horizonNamesSql(policy)})
      SELECT s.product_id, to_char(s.date, 'YYYY-MM-DD') AS date,
             lr.change_rate::float8 AS change, lr.read_rate::float8 AS read
        FROM product_date_syncs s
        JOIN h ON (s.date - ${dateOf(c, 0)}::date) BETWEEN h.from_day AND h.to_day
        ${learnedRatesJoinSql({ now, readHalfLifeSeconds: c.halfLifeSeconds })}`,
    );
    const byKey = new Map(
      rows.map((r) => [
        `${r.product_id}:${r.date}`,
        { change: Number(r.change), read: Number(r.read) },
      ]),
    );
    expect(byKey.size).toBe(c.rows.length);
    return c.rows.map((r) => byKey.get(`${r.productId}:${dateOf(c, r.day)}`)!);
  } finally {
    await db.query('ROLLBACK');
  }
}

const TOLERANCE: Tolerance = { floor: 1e-200 };

describeOnPostgresAndPglite(
  'learned rates SQL parity',
  (db) => {
    it('the SQL gives learnedChangeRate and readRate of random rows, pools and reads', () =>
      assertParity(caseArb, {
        rows: (c) => c.rows,
        byTypeScript,
        bySql: (c) => bySql(db(), c),
        tolerance: TOLERANCE,
        numRuns: 120,
      }));

    it('log1p in SQL keeps the digits of small arguments', async () => {
      for (const x of [0, 1e-17, 1e-12, 3e-9, 1e-4, 0.5, 1, 1e6]) {
        const [{ v }] = await query<{ v: number }>(
          db(),
          Prisma.sql`SELECT ${log1pSql(Prisma.sql`${x}::float8`)}::float8 AS v`,
        );
        expect(closeTo(Number(v), Math.log1p(x), TOLERANCE)).toBe(true);
      }
    });
  },
  { tablesIn: 'inv_learned_sql' },
);
