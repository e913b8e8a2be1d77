import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { decayFactorSql } from '../policy/learned-rates-sql';
import type { ReadCount } from './read-demand-counter';

/** Rows one flush statement writes at most (a flush of more is cut into several). */
export const READ_DEMAND_BATCH = 5000;

/**
 * read_demand: per product-date a read count decayed to its updated_at (learned-rates.ts
 * addReads). Every instance adds the reads it served; the value rule and the status read it.
 */
@Injectable()
export class ReadDemandRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Adds `counts` (at most READ_DEMAND_BATCH, sorted by product and date) in one statement: each
   * row's count decays from its updated_at to now, then the new reads are added. Instances
   * flushing the same rows at once serialise on each row (ON CONFLICT takes its lock and reads
   * the committed count), so no read is lost; the rows are locked in the order given, the same
   * on every instance. Reads of a product no longer in `products` are dropped.
   */
  async add(counts: readonly ReadCount[], halfLifeSeconds: number): Promise<number> {
    if (counts.length === 0) return 0;
    const elapsed = Prisma.sql`extract(epoch FROM now() - d.updated_at)::float8`;
    return this.prisma.$executeRaw`
      INSERT INTO read_demand AS d (product_id, date, reads, updated_at)
      SELECT u.product_id, u.date, u.reads, now()
        FROM unnest(${counts.map((c) => c.productId)}::int[],
                    ${counts.map((c) => c.date)}::date[],
                    ${counts.map((c) => c.reads)}::float8[]) AS u(product_id, date, reads)
        JOIN products p ON p.id = u.product_id
       ORDER BY u.product_id, u.date
      ON CONFLICT (product_id, date) DO UPDATE SET
        reads = d.reads * ${decayFactorSql(elapsed, halfLifeSeconds)} + EXCLUDED.reads,
        -- Never back: a flush that began before another's commit must not undo its decay.
        updated_at = GREATEST(d.updated_at, now())`;
  }

  /** Deletes the counts of dates before `date` (they are read no more). */
  async deleteBefore(date: string): Promise<number> {
    return this.prisma.$executeRaw`DELETE FROM read_demand WHERE date < ${date}::date`;
  }

  /** Every row (tests). */
  async all(): Promise<Array<{ productId: number; date: string; reads: number; updatedAt: Date }>> {
    const rows = await this.prisma.readDemand.findMany({
      orderBy: [{ productId: 'asc' }, { date: 'asc' }],
    });
    return rows.map((r) => ({ ...r, date: r.date.toISOString().slice(0, 10) }));
  }
}
