import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { ChangeEventsRepository } from '../changes/change-events.repository';

/** The products table: which partner products this service keeps in sync. */
@Injectable()
export class ProductsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly changeEvents: ChangeEventsRepository,
  ) {}

  /**
   * Registers the configured products (enabling any that were disabled) and disables the ones no
   * longer configured, writing a product.removed event for each in the same transaction (so the
   * change feed says so exactly once per removal). Rows are written in id order: two instances
   * whose SYNC_PRODUCT_IDS list the same ids in another order (a rolling deploy) would otherwise
   * lock them in opposite orders and deadlock. Returns the ids disabled.
   */
  async register(productIds: readonly number[]): Promise<number[]> {
    const ids = [...productIds];
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`
        INSERT INTO products (id, enabled)
        SELECT id, true FROM unnest(${ids}::int[]) AS id ORDER BY id
        ON CONFLICT (id) DO UPDATE SET enabled = true, updated_at = now()
        WHERE products.enabled IS DISTINCT FROM true`;
      const removed = await tx.$queryRaw<Array<{ id: number }>>`
        UPDATE products SET enabled = false, updated_at = now()
         WHERE id IN (SELECT id FROM products
                       WHERE enabled AND NOT (id = ANY(${ids}::int[]))
                       ORDER BY id FOR UPDATE)
        RETURNING id`;
      const removedIds = removed.map((r) => r.id).sort((a, b) => a - b);
      await this.changeEvents.recordRemovedInTransaction(tx, removedIds);
      return removedIds;
    });
  }
}
