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
import { buildSyncPolicy, horizonForDay } from './sync-policy';
import {
  HORIZON_TARGET_SQL,
  relativeAgeSql,
  ROW_TARGET_SQL,
  relativeAge,
  urgencyScore,
  urgencyScoreSql,
  type ScoreRow,
} from './urgency-score';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const policies = [1, 1.7].map((stretch) =>
  buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date('2026-12-01T00:00:00Z'), stretch),
);
const LAST_DAY = policies[0].lastDay;

interface Case {
  /** Today's UTC midnight (the due list's `from`), ms. */
  fromMs: number;
  /** `now`, from 14 h before that midnight to 38 h after it (every time zone's today). */
  nowMs: number;
  rows: Array<ScoreRow & { horizonTargetSeconds: number }>;
}

const rowArb = fc
  .record({
    policy: fc.constantFrom(...policies),
    day: fc.integer({ min: 0, max: LAST_DAY }),
    // Never synced, or synced from an hour in the future (clocks) to 40 days ago, at ms.
    agoMs: fc.option(fc.integer({ min: -HOUR_MS, max: 40 * DAY_MS }), { nil: null }),
    // The row's target: its last mark's (maybe another horizon's), or none.
    rowTarget: fc.option(
      fc.oneof(fc.constantFrom(900, 14_400, 86_400, 604_800), fc.integer({ min: 1, max: 10 ** 6 })),
      { nil: null },
    ),
    share: fc.option(fc.constantFrom(0.0001, 0.001, 0.01, 0.1, 1, 0.37), { nil: null }),
  })
  .map(({ policy, day, agoMs, rowTarget, share }) => ({ policy, day, agoMs, rowTarget, share }));

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    fromDay: fc.integer({ min: 0, max: 3000 }),
    intoMs: fc.integer({ min: -14 * HOUR_MS, max: 38 * HOUR_MS }),
    rows: fc.array(rowArb, { minLength: 1, maxLength: 40 }),
  })
  .map(({ fromDay, intoMs, rows }) => {
    const fromMs = Date.parse('2020-01-01T00:00:00Z') + fromDay * DAY_MS;
    const nowMs = fromMs + intoMs;
    return {
      fromMs,
      nowMs,
      rows: rows.map(({ policy, day, agoMs, rowTarget, share }) => {
        const h = horizonForDay(policy, day);
        return {
          dateMs: fromMs + day * DAY_MS,
          lastSuccessMs: agoMs === null ? null : nowMs - agoMs,
          targetSeconds: rowTarget,
          toDay: h.toDay,
          share: share ?? h.stretchShare,
          horizonTargetSeconds: h.targetSeconds,
        };
      }),
    };
  });

/** Both scores of every row of `c`, by the SQL fragments the due list runs. */
async function scoresBySql(db: Client, c: Case): Promise<Array<{ due: number; stale: number }>> {
  const now = Prisma.sql`${new Date(c.nowMs).toISOString()}::timestamptz`;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const u = unnestRows(c.rows, {
    date: ['date', (r) => iso(r.dateMs)!.slice(0, 10)],
    last_success_at: ['timestamptz', (r) => iso(r.lastSuccessMs)],
    target_seconds: ['int', (r) => r.targetSeconds],
    to_day: ['int', (r) => r.toDay],
    share: ['float8', (r) => r.share],
    h_target: ['int', (r) => r.horizonTargetSeconds],
  });
  const rows = await query<{ due: number; stale: number }>(
    db,
    Prisma.sql`
    WITH u AS (SELECT * FROM ${u})
    SELECT s.idx,
           (${urgencyScoreSql({ now, target: ROW_TARGET_SQL, lastDay: LAST_DAY })})::float8 AS due,
           (${relativeAgeSql({ now, target: HORIZON_TARGET_SQL, lastDay: LAST_DAY })})::float8 AS stale
      FROM (SELECT idx, date, last_success_at, target_seconds FROM u) s
      JOIN (SELECT idx, to_day, share, h_target AS target_seconds FROM u) h USING (idx)
     ORDER BY s.idx`,
  );
  return rows.map((r) => ({ due: Number(r.due), stale: Number(r.stale) }));
}

describeOnPostgresAndPglite('urgency score parity', (db) => {
  it('the SQL and the TypeScript score agree on random rows (due list and prefetch)', () =>
    assertParity(caseArb, {
      rows: (c) => c.rows,
      byTypeScript: (c) =>
        c.rows.map((row) => ({
          due: urgencyScore(row, c.nowMs, LAST_DAY),
          stale: relativeAge(
            { ...row, targetSeconds: row.horizonTargetSeconds },
            c.nowMs,
            LAST_DAY,
          ),
        })),
      bySql: (c) => scoresBySql(db(), c),
      tolerance: { floor: 1e-9 },
      numRuns: 150,
    }));
});
