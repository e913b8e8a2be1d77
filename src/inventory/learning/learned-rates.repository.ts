import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { addDays } from '../calendar';
import { horizonNamesSql, learnedRatesJoinSql, MIN_EXPONENT } from '../policy/learned-rates-sql';
import type { HorizonName, SyncPolicy } from '../policy/sync-policy';

/** One horizon's aggregate of the learned rates (per second). */
export interface HorizonLearnedSums {
  name: HorizonName;
  productDates: number;
  medianChangeRate: number | null;
  /** Σ μ (reads per second). */
  readRate: number;
  /** Σ μ·e^(−λ·age) (fresh reads per second). */
  freshReadRate: number;
}

/**
 * The learned rates read back (status, the operator page): per horizon, one aggregate over the
 * configured products' product-dates with the rule's own SQL (learned-rates-sql.ts), so what is
 * shown is what the rule ranks by.
 */
@Injectable()
export class LearnedRatesRepository {
  constructor(private readonly prisma: PrismaService) {}

  async horizonSums(input: {
    productIds: readonly number[];
    today: string;
    policy: Pick<SyncPolicy, 'horizons' | 'lastDay'>;
    now: Date;
    readHalfLifeSeconds: number;
  }): Promise<HorizonLearnedSums[]> {
    const { today, policy } = input;
    const now = Prisma.sql`${input.now}::timestamptz`;
    const age = Prisma.sql`GREATEST(0::float8, extract(epoch FROM ${now} - s.last_success_at)::float8)`;
    const rows = await this.prisma.$queryRaw<
      Array<{
        name: HorizonName;
        product_dates: number;
        median_rate: number | null;
        read_rate: number | null;
        fresh_read_rate: number | null;
      }>
    >`
      WITH h AS (${horizonNamesSql(policy)}),
      r AS (
        SELECT h.name, lr.read_rate,
               -- e^(−λ·age); never synced, or a rate without bound: stale.
               CASE WHEN s.last_success_at IS NULL OR NOT (lr.change_rate < 'Infinity'::float8)
                    THEN 0::float8
                    ELSE exp(GREATEST(${MIN_EXPONENT}::float8, -lr.change_rate * ${age})) END AS fresh,
               lr.change_rate
          FROM product_date_syncs s
          JOIN h ON (s.date - ${today}::date) BETWEEN h.from_day AND h.to_day
          ${learnedRatesJoinSql({ now, readHalfLifeSeconds: input.readHalfLifeSeconds })}
         WHERE s.product_id = ANY(${[...input.productIds]}::int[])
           AND s.date BETWEEN ${today}::date AND ${addDays(today, policy.lastDay)}::date
      )
      SELECT h.name, count(r.name)::int AS product_dates,
             (percentile_cont(0.5) WITHIN GROUP (ORDER BY r.change_rate))::float8 AS median_rate,
             COALESCE(sum(r.read_rate), 0)::float8 AS read_rate,
             COALESCE(sum(r.read_rate * r.fresh), 0)::float8 AS fresh_read_rate
        FROM h LEFT JOIN r ON r.name = h.name
       GROUP BY h.name, h.from_day
       ORDER BY h.from_day`;
    return rows.map((r) => ({
      name: r.name,
      productDates: Number(r.product_dates),
      medianChangeRate: r.median_rate === null ? null : Number(r.median_rate),
      readRate: Number(r.read_rate ?? 0),
      freshReadRate: Number(r.fresh_read_rate ?? 0),
    }));
  }
}
