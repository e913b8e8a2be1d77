import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { addDays } from '../calendar';
import { horizonNamesSql, learnedRatesJoinSql, MIN_EXPONENT } from '../policy/learned-rates-sql';
import type { HorizonName, SyncPolicy } from '../policy/sync-policy';

/**
 * Product-dates one statement of the status aggregate reads at most. Larger than the due list's
 * marks (each statement also sums the horizon pools and is planned anew), still short enough
 * that the embedded database's one connection is not held for the whole scan.
 */
export const STATUS_BATCH_PRODUCT_DATES = 20_000;

/** One horizon's aggregate of the learned rates (per second). */
export interface HorizonLearnedSums {
  name: HorizonName;
  productDates: number;
  /** Σ λ over its product-dates (per second); the mean is this ÷ productDates. */
  changeRateSum: number;
  /** Σ μ (reads per second). */
  readRate: number;
  /** Σ μ·e^(−λ·age) (fresh reads per second). */
  freshReadRate: number;
}

/**
 * The learned rates read back (status, the operator page): per horizon, sums over the configured
 * products' product-dates with the rule's own SQL (learned-rates-sql.ts), so what is shown is what
 * the rule ranks by.
 */
@Injectable()
export class LearnedRatesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * One statement per batch of products (STATUS_BATCH_PRODUCT_DATES): the embedded database's one
   * connection is never held for the whole scan, and the sums add up across batches (which is why
   * the rate is a mean, not a median).
   */
  async horizonSums(input: {
    productIds: readonly number[];
    today: string;
    policy: Pick<SyncPolicy, 'horizons' | 'lastDay'>;
    now: Date;
    readHalfLifeSeconds: number;
  }): Promise<HorizonLearnedSums[]> {
    const { policy } = input;
    const totals = new Map<HorizonName, HorizonLearnedSums>(
      policy.horizons.map((h) => [
        h.name,
        { name: h.name, productDates: 0, changeRateSum: 0, readRate: 0, freshReadRate: 0 },
      ]),
    );
    const ids = [...new Set(input.productIds)].sort((a, b) => a - b);
    const size = Math.max(1, Math.floor(STATUS_BATCH_PRODUCT_DATES / (policy.lastDay + 1)));
    for (let i = 0; i < ids.length; i += size) {
      const batch = ids.slice(i, i + size);
      for (const row of await this.batchSums({ ...input, productIds: batch })) {
        const t = totals.get(row.name);
        if (!t) continue;
        t.productDates += Number(row.product_dates);
        t.changeRateSum += Number(row.rate_sum ?? 0);
        t.readRate += Number(row.read_rate ?? 0);
        t.freshReadRate += Number(row.fresh_read_rate ?? 0);
      }
    }
    return [...totals.values()];
  }

  private batchSums(input: {
    productIds: readonly number[];
    today: string;
    policy: Pick<SyncPolicy, 'horizons' | 'lastDay'>;
    now: Date;
    readHalfLifeSeconds: number;
  }) {
    const { today, policy } = input;
    const now = Prisma.sql`${input.now}::timestamptz`;
    const age = Prisma.sql`GREATEST(0::float8, extract(epoch FROM ${now} - s.last_success_at)::float8)`;
    return this.prisma.$queryRaw<
      Array<{
        name: HorizonName;
        product_dates: number;
        rate_sum: number | null;
        read_rate: number | null;
        fresh_read_rate: number | null;
      }>
    >`
      WITH h AS (${horizonNamesSql(policy)})
      SELECT h.name, count(*)::int AS product_dates,
             sum(lr.change_rate)::float8 AS rate_sum,
             sum(lr.read_rate)::float8 AS read_rate,
             -- e^(−λ·age); never synced, or a rate without bound: stale.
             sum(CASE WHEN s.last_success_at IS NULL OR NOT (lr.change_rate < 'Infinity'::float8)
                      THEN 0::float8
                      ELSE lr.read_rate
                           * exp(GREATEST(${MIN_EXPONENT}::float8, -lr.change_rate * ${age})) END
                 )::float8 AS fresh_read_rate
        FROM product_date_syncs s
        JOIN h ON (s.date - ${today}::date) BETWEEN h.from_day AND h.to_day
        ${learnedRatesJoinSql({ now, readHalfLifeSeconds: input.readHalfLifeSeconds })}
       WHERE s.product_id = ANY(${[...input.productIds]}::int[])
         AND s.date BETWEEN ${today}::date AND ${addDays(today, policy.lastDay)}::date
       GROUP BY h.name`;
  }
}
