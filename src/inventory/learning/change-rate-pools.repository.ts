import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { addDays } from '../calendar';
import { markBatches } from '../due/due-list';
import { horizonNamesSql } from '../policy/learned-rates-sql';
import type { SyncPolicy } from '../policy/sync-policy';

/**
 * change_rate_pools: per product and horizon, the change statistics of its dates in that horizon
 * summed (the priors of learnedChangeRate; see learned-rates-sql.ts). Only the leader writes them.
 */
@Injectable()
export class ChangeRatePoolsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Recomputes the pools of `productIds` from their product-dates' sums, the horizons counted from
   * `today` (in the sync time zone). One set-based statement per batch of products (as the due
   * list's marks are batched), each its own short transaction, so the embedded database's one
   * connection is never held for long. Every product gets a row per horizon (zero when it has no
   * synced date there), so a pool never keeps sums of dates that left its horizon. Pools of other
   * products are deleted. Returns the pools written.
   */
  async refresh(input: {
    productIds: readonly number[];
    today: string;
    policy: Pick<SyncPolicy, 'horizons' | 'lastDay'>;
  }): Promise<number> {
    const { today, policy } = input;
    const ids = [...new Set(input.productIds)].sort((a, b) => a - b);
    await this.prisma.$executeRaw`
      DELETE FROM change_rate_pools WHERE NOT (product_id = ANY(${ids}::int[]))`;
    const to = addDays(today, policy.lastDay);
    let written = 0;
    for (const batch of markBatches(ids, policy.lastDay + 1)) {
      written += await this.prisma.$executeRaw`
        WITH h AS (${horizonNamesSql(policy)}),
        sums AS (
          SELECT s.product_id, h.name AS horizon,
                 sum(s.obs_changed) AS changed, sum(s.obs_changed_seconds) AS changed_seconds,
                 sum(s.obs_unchanged) AS unchanged, sum(s.obs_unchanged_seconds) AS unchanged_seconds
            FROM product_date_syncs s
            JOIN h ON (s.date - ${today}::date) BETWEEN h.from_day AND h.to_day
           WHERE s.product_id = ANY(${batch}::int[])
             AND s.date BETWEEN ${today}::date AND ${to}::date
           GROUP BY s.product_id, h.name
        )
        INSERT INTO change_rate_pools AS p
               (product_id, horizon, changed, changed_seconds, unchanged, unchanged_seconds,
                updated_at)
        SELECT pr.id, h.name, COALESCE(sums.changed, 0), COALESCE(sums.changed_seconds, 0),
               COALESCE(sums.unchanged, 0), COALESCE(sums.unchanged_seconds, 0), now()
          FROM products pr
         CROSS JOIN h
          LEFT JOIN sums ON sums.product_id = pr.id AND sums.horizon = h.name
         WHERE pr.id = ANY(${batch}::int[])
         ORDER BY pr.id, h.name
        ON CONFLICT (product_id, horizon) DO UPDATE SET
          changed = EXCLUDED.changed,
          changed_seconds = EXCLUDED.changed_seconds,
          unchanged = EXCLUDED.unchanged,
          unchanged_seconds = EXCLUDED.unchanged_seconds,
          updated_at = EXCLUDED.updated_at`;
    }
    return written;
  }

  /** Every pool row (status, tests). */
  async all(): Promise<
    Array<{
      productId: number;
      horizon: string;
      changed: number;
      changedSeconds: number;
      unchanged: number;
      unchangedSeconds: number;
      updatedAt: Date;
    }>
  > {
    return this.prisma.changeRatePool.findMany({
      orderBy: [{ productId: 'asc' }, { horizon: 'asc' }],
    });
  }
}
