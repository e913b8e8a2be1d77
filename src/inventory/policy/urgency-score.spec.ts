import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Client } from 'pg';
import { ADMIN_DATABASE_URL } from '../../../test/support/test-database';
import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import { EmbeddedPostgres } from '../../core/database/embedded-postgres';
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
  const q = Prisma.sql`
    WITH u AS (
      SELECT * FROM unnest(${c.rows.map((_, i) => i)}::int[],
                           ${c.rows.map((r) => iso(r.dateMs)!.slice(0, 10))}::date[],
                           ${c.rows.map((r) => iso(r.lastSuccessMs))}::timestamptz[],
                           ${c.rows.map((r) => r.targetSeconds)}::int[],
                           ${c.rows.map((r) => r.toDay)}::int[],
                           ${c.rows.map((r) => r.share)}::float8[],
                           ${c.rows.map((r) => r.horizonTargetSeconds)}::int[])
               AS u(idx, date, last_success_at, target_seconds, to_day, share, h_target)
    )
    SELECT s.idx,
           (${urgencyScoreSql({ now, target: ROW_TARGET_SQL, lastDay: LAST_DAY })})::float8 AS due,
           (${relativeAgeSql({ now, target: HORIZON_TARGET_SQL, lastDay: LAST_DAY })})::float8 AS stale
      FROM (SELECT idx, date, last_success_at, target_seconds FROM u) s
      JOIN (SELECT idx, to_day, share, h_target AS target_seconds FROM u) h USING (idx)
     ORDER BY s.idx`;
  const { rows } = await db.query<{ due: number; stale: number }>(q.text, q.values);
  return rows.map((r) => ({ due: Number(r.due), stale: Number(r.stale) }));
}

const close = (a: number, b: number): boolean =>
  Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function checkParity(connect: () => Client) {
  let db: Client;
  beforeAll(async () => {
    db = connect();
    await db.connect();
  });
  afterAll(() => db.end());

  it('the SQL and the TypeScript score agree on random rows (due list and prefetch)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const bySql = await scoresBySql(db, c);
        c.rows.forEach((row, i) => {
          const due = urgencyScore(row, c.nowMs, LAST_DAY);
          const stale = relativeAge(
            { ...row, targetSeconds: row.horizonTargetSeconds },
            c.nowMs,
            LAST_DAY,
          );
          if (!close(due, bySql[i].due) || !close(stale, bySql[i].stale)) {
            throw new Error(
              `row ${i} ${JSON.stringify(row)}: TypeScript ${due} / ${stale}, SQL ${bySql[i].due} / ${bySql[i].stale}`,
            );
          }
        });
      }),
      { numRuns: 150 },
    );
  });
}

describe('urgency score parity on PostgreSQL', () => {
  checkParity(() => new Client({ connectionString: ADMIN_DATABASE_URL }));
});

describe('urgency score parity on PGlite', () => {
  let dir: string;
  let embedded: EmbeddedPostgres;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'score-pglite-'));
    embedded = await EmbeddedPostgres.start(dir);
  });
  afterAll(async () => {
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  checkParity(() => new Client({ connectionString: embedded.connectionString }));
});
