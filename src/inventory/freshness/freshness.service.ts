import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { PrismaService } from '../../core/prisma.service';
import { addDays, fromDbDate, todayIn, toDbDate } from '../calendar';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import type { SyncPolicy } from '../policy/sync-policy';
import { buildFreshnessMatrix, type FreshnessMatrix } from './freshness-matrix';

/** Reads the sync bookkeeping of the configured products and classifies every product-date. */
@Injectable()
export class FreshnessService {
  constructor(
    private readonly prisma: PrismaService,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
  ) {}

  async matrix(now: Date = new Date()): Promise<FreshnessMatrix> {
    const { productIds, timeZone } = this.config.sync;
    const today = todayIn(timeZone, now);
    // One query for the whole matrix (450 products × 60 dates is 27,000 rows at most).
    const rows = await this.prisma.productDateSync.findMany({
      where: {
        productId: { in: productIds },
        date: { gte: toDbDate(today), lte: toDbDate(addDays(today, this.policy.lastDay)) },
      },
      select: {
        productId: true,
        date: true,
        lastAttemptAt: true,
        lastSuccessAt: true,
        lastOutcome: true,
        lastError: true,
        slotCount: true,
      },
    });
    return buildFreshnessMatrix({
      policy: this.policy,
      productIds,
      today,
      timeZone,
      now,
      rows: rows.map((r) => ({ ...r, date: fromDbDate(r.date) })),
    });
  }
}
