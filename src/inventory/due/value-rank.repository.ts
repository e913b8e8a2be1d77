import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { callValueSql, type DeadlineBucket } from '../policy/call-value';
import { learnedRatesJoinSql } from '../policy/learned-rates-sql';
import type { HorizonName, SyncPolicy } from '../policy/sync-policy';
import { HORIZON_TARGET_SQL, rankedSinceSql, urgencyScoreSql } from '../policy/urgency-score';
import type { DueEntry } from './due-list';

/** Why a product-date is in the plan: the list the value rule took it from. */
export type RankReason = 'floor' | 'never' | 'value' | 'due';

/** A product-date as the value rule ranked it. */
export interface RankedEntry extends DueEntry {
  why: RankReason;
  /** Reads a sync now is expected to turn from stale to fresh (call-value.ts), in reads/s·s. */
  value: number;
  /** When its horizon's floor runs out (its ranked instant + the floor). */
  deadline: Date;
  /** Its learned change rate and read rate, per hour. */
  changeRatePerHour: number;
  readsPerHour: number;
}

export interface ValueRankInput {
  productIds: readonly number[];
  /** Today: day offsets, and so horizons, count from it. */
  from: string;
  policy: SyncPolicy;
  /** Each horizon's hard maximum age, seconds (floorSeconds). */
  floors: Readonly<Record<HorizonName, number>>;
  /** In flight ("productId:date"): neither counted nor ranked. */
  exclude: readonly string[];
  readHalfLifeSeconds: number;
  /** The floor's deadlines are counted per this much time ahead (valueRuleTiming). */
  bucketMs: number;
}

/**
 * Every product-date the value rule may take, as CTE `s` (with its day offset) and `horizon` `h`
 * (name, days, target, share, floor): the configured products' rows of today .. today + lastDay.
 * A date with no row yet was never marked nor synced: the boot rule (SYNC_ON_BOOT) and the
 * windows' marks bring dates in, so SYNC_ON_BOOT=false still means nothing is fetched that no
 * mark asked for. Left out: products backing off (only their probe goes, from the due list),
 * dates waiting out a failure's backoff, the ones in flight.
 */
const candidatesSql = (input: ValueRankInput): Prisma.Sql => {
  const { policy } = input;
  return Prisma.sql`
  horizon AS (
    SELECT * FROM unnest(${policy.horizons.map((h) => h.name)}::text[],
                         ${policy.horizons.map((h) => h.fromDay)}::int[],
                         ${policy.horizons.map((h) => h.toDay)}::int[],
                         ${policy.horizons.map((h) => h.targetSeconds)}::int[],
                         ${policy.horizons.map((h) => h.stretchShare)}::float8[],
                         ${policy.horizons.map((h) => input.floors[h.name])}::int[])
             AS h(name, from_day, to_day, target_seconds, share, floor_seconds)
  ), s AS (
    SELECT x.product_id, x.date, x.date - ${input.from}::date AS day, x.due_since, x.due_window,
           x.failed_attempts, x.last_success_at, x.obs_changed, x.obs_changed_seconds,
           x.obs_unchanged_seconds
      FROM product_date_syncs x
     WHERE x.product_id = ANY(${[...input.productIds]}::int[])
       AND x.date BETWEEN ${input.from}::date AND ${input.from}::date + ${policy.lastDay}::int
       AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= now())
       AND NOT EXISTS (SELECT 1 FROM product_sync_backoffs b
                        WHERE b.product_id = x.product_id AND b.since IS NOT NULL)
       AND NOT ((x.product_id::text || ':' || to_char(x.date, 'YYYY-MM-DD')) = ANY(${[...input.exclude]}::text[]))
  )`;
};

/** The instant a row's floor runs out: its ranked instant with no hand-over credit + its floor. */
const deadlineSql = (lastDay: number): Prisma.Sql =>
  Prisma.sql`(${rankedSinceSql({ target: Prisma.sql`0`, lastDay })} + h.floor_seconds * interval '1 second')`;

/**
 * The value rule's statements (issue 26): how the floor's deadlines fall ahead of now, and the
 * work ranked by the floor, never-synced dates and the value of a call. Reads product_date_syncs
 * (the due list's table, whose writes stay in DueListRepository), the learned pools and the read
 * demand. Every product-date of the range is looked at: the leader runs these once per rank
 * (valueRuleTiming), not per call.
 */
@Injectable()
export class ValueRankRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Product-dates per bucket (`bucketMs`) from now to their floor deadline, in order. */
  async deadlineBuckets(input: ValueRankInput): Promise<DeadlineBucket[]> {
    if (input.productIds.length === 0) return [];
    const rows = await this.prisma.$queryRaw<Array<{ bucket: number; count: number }>>`
      WITH ${candidatesSql(input)}
      SELECT GREATEST(0, floor(extract(epoch FROM ${deadlineSql(input.policy.lastDay)} - now())
                               * 1000 / ${input.bucketMs}::float8))::int AS bucket,
             count(*)::int AS count
        FROM s JOIN horizon h ON s.day BETWEEN h.from_day AND h.to_day
       GROUP BY 1 ORDER BY 1`;
    return rows.map((r) => ({ bucket: Number(r.bucket), count: Number(r.count) }));
  }

  /**
   * Up to `limit` of each list, in the order the rule takes them: `floor`, the rows whose
   * deadlines fall within `forcedBuckets` buckets (floorForcedBuckets), by the urgency score;
   * `never`, due and never synced, the longest shown first; `value`, by the value of a call, due
   * or not (only read product-dates have one: the learned rates are computed for those rows and
   * for the ones picked, not for every row); `due`, the due rows by the urgency score (one with
   * value was taken from `value` first). Ties: the nearer date, then the product.
   */
  async rank(
    input: ValueRankInput & { forcedBuckets: number; limit: number },
  ): Promise<RankedEntry[]> {
    if (input.productIds.length === 0 || input.limit <= 0) return [];
    const { lastDay } = input.policy;
    const now = Prisma.sql`now()`;
    const rates = learnedRatesJoinSql({ now, readHalfLifeSeconds: input.readHalfLifeSeconds });
    const value = callValueSql({
      readRate: Prisma.sql`lr.read_rate`,
      changeRate: Prisma.sql`lr.change_rate`,
      ageSeconds: Prisma.sql`extract(epoch FROM ${now} - s.last_success_at)::float8`,
    });
    const rows = await this.prisma.$queryRaw<
      Array<{
        why: RankReason;
        product_id: number;
        date: string;
        due_window: string | null;
        failed_attempts: number | null;
        value: number;
        deadline: Date;
        change_rate: number;
        read_rate: number;
      }>
    >`
      WITH ${candidatesSql(input)},
      -- Every row's place by the floor and by urgency: no learned rate needed.
      cand AS (
        SELECT s.product_id, s.date, s.due_since IS NOT NULL AS due,
               s.last_success_at IS NULL AS never,
               ${deadlineSql(lastDay)} AS deadline,
               ${rankedSinceSql({ target: HORIZON_TARGET_SQL, lastDay })} AS since,
               ${urgencyScoreSql({ now, target: HORIZON_TARGET_SQL, lastDay })} AS urgency
          FROM s JOIN horizon h ON s.day BETWEEN h.from_day AND h.to_day
      ),
      -- A call has value only where there are reads: the rates are computed for those rows.
      valued AS (
        SELECT s.product_id, s.date, ${value} AS value
          FROM s JOIN horizon h ON s.day BETWEEN h.from_day AND h.to_day
          JOIN read_demand rd ON rd.product_id = s.product_id AND rd.date = s.date AND rd.reads > 0
          ${rates}
      ),
      picked AS (
        (SELECT 1 AS list, 'floor' AS why, product_id, date,
                row_number() OVER (ORDER BY urgency DESC, date, product_id) AS ord
           FROM cand
          WHERE ${input.forcedBuckets}::int > 0
            AND deadline < ${now} + ${input.forcedBuckets * input.bucketMs}::float8 * interval '1 millisecond'
          ORDER BY urgency DESC, date, product_id
          LIMIT ${input.limit}::int)
        UNION ALL
        (SELECT 2, 'never', product_id, date,
                row_number() OVER (ORDER BY since, date, product_id)
           FROM cand WHERE due AND never
          ORDER BY since, date, product_id
          LIMIT ${input.limit}::int)
        UNION ALL
        (SELECT 3, 'value', product_id, date,
                row_number() OVER (ORDER BY value DESC, date, product_id)
           FROM valued WHERE value > 0
          ORDER BY value DESC, date, product_id
          LIMIT ${input.limit}::int)
        UNION ALL
        -- Due rows by urgency, after the valued ones (one with value is taken there first).
        (SELECT 4, 'due', product_id, date,
                row_number() OVER (ORDER BY urgency DESC, date, product_id)
           FROM cand WHERE due
          ORDER BY urgency DESC, date, product_id
          LIMIT ${input.limit}::int)
      )
      -- The picked rows' details (and their rates, for status), a few thousand at most.
      SELECT p.why, p.product_id, to_char(p.date, 'YYYY-MM-DD') AS date, s.due_window,
             s.failed_attempts, ${value} AS value, ${deadlineSql(lastDay)} AS deadline,
             lr.change_rate, lr.read_rate
        FROM picked p
        JOIN s ON s.product_id = p.product_id AND s.date = p.date
        JOIN horizon h ON s.day BETWEEN h.from_day AND h.to_day
        ${rates}
       ORDER BY p.list, p.ord`;
    return rows.map((r) => ({
      productId: r.product_id,
      date: r.date,
      reason: r.due_window ?? r.why,
      manual: false,
      failedAttempts: r.failed_attempts ?? 0,
      why: r.why,
      value: Number(r.value),
      deadline: r.deadline,
      changeRatePerHour: Number(r.change_rate) * 3600,
      readsPerHour: Number(r.read_rate) * 3600,
    }));
  }
}
