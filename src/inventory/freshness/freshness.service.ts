import { Injectable, Optional } from '@nestjs/common';
import {
  DatabaseOutageReporter,
  DatabaseUnavailableError,
  isDatabaseUnavailable,
} from '../../common/database-unavailable';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { addDays, todayIn } from '../calendar';
import { DueListRepository } from '../due/due-list.repository';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import type { SyncPolicy } from '../policy/sync-policy';
import { buildFreshnessMatrix, type FreshnessMatrix } from './freshness-matrix';

/** GET /sync/freshness: the matrix, and whether it is the last good one (database down). */
export type FreshnessAnswer = FreshnessMatrix & { degraded: boolean };

/**
 * Reads the sync bookkeeping of the configured products and classifies every product-date.
 * While the database cannot answer, the last matrix this instance built is answered with
 * `degraded: true` (its generatedAt says how old it is); with none, DatabaseUnavailableError.
 */
@Injectable()
export class FreshnessService {
  private last: FreshnessMatrix | null = null;

  constructor(
    private readonly syncStates: DueListRepository,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {}

  async answer(now: Date = new Date()): Promise<FreshnessAnswer> {
    try {
      this.last = await this.matrix(now);
      return { ...this.last, degraded: false };
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.outage?.report('sync freshness', err);
      if (!this.last) throw new DatabaseUnavailableError();
      return { ...this.last, degraded: true };
    }
  }

  async matrix(now: Date = new Date()): Promise<FreshnessMatrix> {
    const { productIds, timeZone } = this.config.sync;
    const today = todayIn(timeZone, now);
    const rows = await this.syncStates.syncStates(
      productIds,
      today,
      addDays(today, this.policy.lastDay),
    );
    return buildFreshnessMatrix({
      policy: this.policy,
      productIds,
      today,
      timeZone,
      now,
      rows,
    });
  }
}
