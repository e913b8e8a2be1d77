import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';

/** The products table: which partner products this service keeps in sync. */
@Injectable()
export class ProductsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Registers the configured products (enabling any that were disabled) in one statement, so
   * instances booting together cannot race. Rows are written in id order: two instances whose
   * SYNC_PRODUCT_IDS list the same ids in another order (a rolling deploy) would otherwise lock
   * them in opposite orders and deadlock.
   */
  async register(productIds: readonly number[]): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO products (id, enabled)
      SELECT id, true FROM unnest(${[...productIds]}::int[]) AS id ORDER BY id
      ON CONFLICT (id) DO UPDATE SET enabled = true, updated_at = now()
      WHERE products.enabled IS DISTINCT FROM true`;
  }
}
