import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { PrismaService } from '../../core/prisma.service';

/** Puts the configured products (SYNC_PRODUCT_IDS) in the products table at boot. */
@Injectable()
export class ProductRegistry {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly prisma: PrismaService,
  ) {}

  /** One statement, safe for instances booting together (no read-then-write upsert). */
  async registerConfigured(): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO products (id, enabled)
      SELECT id, true FROM unnest(${this.config.sync.productIds}::int[]) AS id
      ON CONFLICT (id) DO UPDATE SET enabled = true, updated_at = now()
      WHERE products.enabled IS DISTINCT FROM true`;
  }
}
