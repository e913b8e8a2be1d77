/**
 * The order of work's score, in one place: the SQL fragment the due list ranks by and the same
 * score evaluated in TypeScript (the policy's order, its specs and the benchmark model). The two
 * are held together by urgency-score.spec.ts (random rows, real PostgreSQL and PGlite). `now` is
 * passed in on both sides: production passes the database's `now()`, the one clock the rest of
 * each statement compares with.
 *
 * A product-date ranks by its ranked age ÷ its target, past 1 stretched by its horizon's share:
 * - ranked age: the time since its ranked instant (`rankedSinceMs`): its last success, but never
 *   earlier than its target before the UTC midnight it entered its horizon (a date handed over
 *   counts as just due when it enters); never synced, the UTC midnight it entered the range (as
 *   today + lastDay). Clamped at 0.
 * - target: the row's (as its last mark set it) for the due list, the horizon's for the prefetch.
 */
import { Prisma } from '../../generated/prisma/client';

const DAY_MS = 86_400_000;

/** The smallest share the lateness takes (a horizon no window covers has a year's target). */
export const MIN_SHARE = 0.001;

/** A product-date as the score sees it (the columns the SQL reads). */
export interface ScoreRow {
  /** The UTC midnight of its date (s.date), ms. */
  dateMs: number;
  /** Its last success (s.last_success_at), ms; null when never synced. */
  lastSuccessMs: number | null;
  /** The target it ranks against, seconds (null: 1, as COALESCE(s.target_seconds, 1)). */
  targetSeconds: number | null;
  /** Its horizon's last day offset (h.to_day). */
  toDay: number;
  /** Its horizon's share of the stretch (h.share). */
  share: number;
}

/** Past 1 the excess counts 1 ÷ share times (share floored at MIN_SHARE). */
export function stretched(relative: number, share: number): number {
  return relative <= 1 ? relative : 1 + (relative - 1) / Math.max(MIN_SHARE, share);
}

const targetOf = (row: Pick<ScoreRow, 'targetSeconds'>): number => row.targetSeconds ?? 1;

/** The instant its ranked age counts from (see the module comment), ms. */
export function rankedSinceMs(
  row: Pick<ScoreRow, 'dateMs' | 'lastSuccessMs' | 'targetSeconds' | 'toDay'>,
  lastDay: number,
): number {
  if (row.lastSuccessMs === null) return row.dateMs - lastDay * DAY_MS;
  return Math.max(row.lastSuccessMs, row.dateMs - row.toDay * DAY_MS - targetOf(row) * 1000);
}

/** Ranked age ÷ target, the ranked age clamped at 0. */
export function relativeAge(row: ScoreRow, nowMs: number, lastDay: number): number {
  const ageSeconds = Math.max(0, (nowMs - rankedSinceMs(row, lastDay)) / 1000);
  return ageSeconds / Math.max(1, targetOf(row));
}

/** The score: the relative age stretched by the horizon's share. Higher goes first. */
export function urgencyScore(row: ScoreRow, nowMs: number, lastDay: number): number {
  return stretched(relativeAge(row, nowMs, lastDay), row.share);
}

/**
 * The SQL of `stretched`: `relative` and `share` are SQL expressions.
 */
export const stretchedSql = (relative: Prisma.Sql, share: Prisma.Sql): Prisma.Sql => Prisma.sql`
  CASE WHEN ${relative} <= 1 THEN ${relative} ELSE 1 + (${relative} - 1) / GREATEST(${MIN_SHARE}::float8, ${share}) END`;

/**
 * The SQL of `relativeAge` for product-date `s` in horizon `h` (columns s.date,
 * s.last_success_at, h.to_day), against `target` (an SQL expression), at `now` (an SQL
 * timestamptz expression).
 */
export const relativeAgeSql = (input: {
  now: Prisma.Sql;
  target: Prisma.Sql;
  lastDay: number;
}): Prisma.Sql => Prisma.sql`
  GREATEST(0, extract(epoch FROM ${input.now} - ${rankedSinceSql(input)})) / GREATEST(1, ${input.target})`;

/**
 * The SQL of `rankedSinceMs` for product-date `s` in horizon `h` (columns s.date,
 * s.last_success_at, h.to_day), against `target` (seconds, an SQL expression), as a timestamptz.
 */
export const rankedSinceSql = (input: { target: Prisma.Sql; lastDay: number }): Prisma.Sql =>
  Prisma.sql`(CASE
    WHEN s.last_success_at IS NULL THEN (s.date - ${input.lastDay}::int)::timestamp AT TIME ZONE 'UTC'
    ELSE GREATEST(s.last_success_at,
                  (s.date - h.to_day)::timestamp AT TIME ZONE 'UTC' - ${input.target} * interval '1 second')
  END)`;

/** The SQL of `urgencyScore` (share h.share). */
export const urgencyScoreSql = (input: {
  now: Prisma.Sql;
  target: Prisma.Sql;
  lastDay: number;
}): Prisma.Sql => stretchedSql(relativeAgeSql(input), Prisma.sql`h.share`);

/** The due list's target: the row's, as its last mark set it. */
export const ROW_TARGET_SQL = Prisma.sql`COALESCE(s.target_seconds, 1)`;
/** The prefetch's target: the horizon's (the date may have moved nearer since its last mark). */
export const HORIZON_TARGET_SQL = Prisma.sql`h.target_seconds`;
