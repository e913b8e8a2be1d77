import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import type { HorizonName } from '../policy/sync-policy';
import { BUCKETS_PER_OCTAVE, type IntervalBucket } from './change-rate';

/** A horizon's day offsets from today, as the queries group by them. */
interface HorizonDays {
  name: HorizonName;
  fromDay: number;
  toDay: number;
}

/** One horizon's observations, by interval bucket. */
export interface HorizonObservations {
  name: HorizonName;
  buckets: IntervalBucket[];
}

/** One horizon's stored product-dates and the sum of their probabilities of being fresh. */
export interface HorizonFreshSum {
  name: HorizonName;
  /** Product-dates of the horizon synced at least once. */
  synced: number;
  /** Sum over them of exp(-rate × age). */
  freshSum: number;
}

const horizonsSql = (horizons: readonly HorizonDays[]): Prisma.Sql =>
  Prisma.sql`
  SELECT * FROM unnest(${horizons.map((h) => h.fromDay)}::int[],
                       ${horizons.map((h) => h.toDay)}::int[])
           WITH ORDINALITY AS h(from_day, to_day, i)`;

/**
 * change_observations: what each successful sync saw (changed since the previous success or not,
 * after how long). The one place its SQL lives.
 */
@Injectable()
export class ChangeObservationsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Appends one observation inside the store's transaction (an insert: no row is shared). */
  async recordInTransaction(
    tx: Prisma.TransactionClient,
    input: {
      productId: number;
      dbDate: Date;
      observedAt: Date;
      intervalSeconds: number;
      changed: boolean;
    },
  ): Promise<void> {
    const { productId, dbDate, observedAt, intervalSeconds, changed } = input;
    await tx.$executeRaw`
      INSERT INTO change_observations (product_id, date, observed_at, interval_seconds, changed)
      VALUES (${productId}::int, ${dbDate}::date, ${observedAt}::timestamptz,
              ${intervalSeconds}::float8, ${changed}::boolean)`;
  }

  /**
   * The observations since `since` of `productIds`, per horizon (days ahead of the product-date
   * when it was observed, in `timeZone`) and interval bucket: a few rows whatever the traffic.
   */
  async bucketsSince(
    productIds: readonly number[],
    timeZone: string,
    horizons: readonly HorizonDays[],
    since: Date,
  ): Promise<HorizonObservations[]> {
    const rows = await this.prisma.$queryRaw<
      Array<{
        i: bigint;
        changed: number;
        unchanged: number;
        changed_seconds: number;
        unchanged_seconds: number;
      }>
    >`
      WITH h AS (${horizonsSql(horizons)})
      SELECT h.i,
             (count(*) FILTER (WHERE o.changed))::int AS changed,
             (count(*) FILTER (WHERE NOT o.changed))::int AS unchanged,
             COALESCE(sum(o.interval_seconds) FILTER (WHERE o.changed), 0)::float8 AS changed_seconds,
             COALESCE(sum(o.interval_seconds) FILTER (WHERE NOT o.changed), 0)::float8 AS unchanged_seconds
        FROM change_observations o
        JOIN h ON (o.date - (o.observed_at AT TIME ZONE ${timeZone})::date) BETWEEN h.from_day AND h.to_day
       WHERE o.observed_at >= ${since}::timestamptz
         AND o.product_id = ANY(${[...productIds]}::int[])
       GROUP BY h.i, floor(${BUCKETS_PER_OCTAVE}::float8 * ln(GREATEST(o.interval_seconds, 0.001)) / ln(2))`;
    return horizons.map(({ name }, index) => ({
      name,
      buckets: rows
        .filter((r) => Number(r.i) === index + 1)
        .map((r) => ({
          changed: r.changed,
          unchanged: r.unchanged,
          changedSeconds: r.changed_seconds,
          unchangedSeconds: r.unchanged_seconds,
        })),
    }));
  }

  /**
   * Per horizon, the product-dates of `productIds` from `today` synced at least once and the sum
   * of exp(-rate × age) over them (`rates` per horizon, per second; age since the last success
   * at `now`). One aggregate over product_date_syncs.
   */
  async freshSums(
    productIds: readonly number[],
    today: string,
    horizons: readonly HorizonDays[],
    rates: readonly number[],
    now: Date,
  ): Promise<HorizonFreshSum[]> {
    const last = horizons[horizons.length - 1]?.toDay ?? 0;
    const from = horizons.map((h) => h.fromDay);
    // A row's horizon by width_bucket over the horizons' first days (they are consecutive and
    // ascending; the BETWEEN keeps a day outside every horizon out), not a join of every row
    // with every horizon: this reads every product-date of every product.
    const rows = await this.prisma.withoutParallelWorkers(this.prisma.$queryRaw<
      Array<{ i: number; synced: number; fresh_sum: number }>
    >`
      SELECT b.i, count(*)::int AS synced,
             -- exp() of a float8 below about -745 is an underflow error in PostgreSQL, not 0.
             sum(exp(-LEAST(700, (${[...rates]}::float8[])[b.i]
                                 * GREATEST(0, extract(epoch FROM ${now}::timestamptz - s.last_success_at)))))::float8 AS fresh_sum
        FROM product_date_syncs s
       CROSS JOIN LATERAL (SELECT width_bucket(s.date - ${today}::date, ${from}::int[]) AS i) b
       WHERE s.product_id = ANY(${[...productIds]}::int[])
         AND s.date BETWEEN ${today}::date AND ${today}::date + ${last}::int
         AND s.last_success_at IS NOT NULL
         AND (s.date - ${today}::date) BETWEEN (${from}::int[])[b.i]
                                           AND (${horizons.map((h) => h.toDay)}::int[])[b.i]
       GROUP BY b.i`);
    return horizons.map(({ name }, index) => {
      const row = rows.find((r) => Number(r.i) === index + 1);
      return { name, synced: row?.synced ?? 0, freshSum: row?.fresh_sum ?? 0 };
    });
  }

  /** Deletes the observations older than `before`; returns how many. */
  async deleteBefore(before: Date): Promise<number> {
    return this.prisma
      .$executeRaw`DELETE FROM change_observations WHERE observed_at < ${before}::timestamptz`;
  }
}
