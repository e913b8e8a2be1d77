import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { DatabaseOutageReporter } from '../../common/database-unavailable';
import { SharedReading } from '../../common/shared-reading';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { todayIn } from '../calendar';
import { ChangeObservationsRepository } from '../accuracy/change-observations.repository';
import type { HorizonName, SyncPolicy } from '../policy/sync-policy';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import { LearnedRatesRepository, type HorizonLearnedSums } from './learned-rates.repository';
import type { LearnedRatesStatus } from './learned-rates.types';
import { ReadDemandService } from './read-demand.service';

/**
 * How long one reading of the learned rates is answered again. It aggregates every product-date
 * of the configured products: however many pages poll status, the database does it at most this
 * often (and never while a caller waits, once there is a reading).
 */
export const LEARNED_STATUS_SHARE_MS = 60_000;

/** Per hour from per second. */
const HOUR = 3600;

/** The status' `learned` object from the per-horizon sums (pure). */
export function learnedRatesStatus(
  sums: readonly HorizonLearnedSums[],
  computedAt: Date,
  readCounter: LearnedRatesStatus['readCounter'],
  syncsLastHour: Partial<Record<HorizonName, number>> = {},
): LearnedRatesStatus {
  const share = (fresh: number, reads: number) => (reads > 0 ? fresh / reads : null);
  const readRate = sums.reduce((a, h) => a + h.readRate, 0);
  const freshRate = sums.reduce((a, h) => a + h.freshReadRate, 0);
  return {
    horizons: sums.map((h) => ({
      name: h.name,
      productDates: h.productDates,
      changeRatePerHour: h.productDates > 0 ? (h.changeRateSum / h.productDates) * HOUR : null,
      readsPerHour: h.readRate * HOUR,
      syncsLastHour: syncsLastHour[h.name] ?? 0,
      expectedFreshReads: share(h.freshReadRate, h.readRate),
    })),
    readsPerHour: readRate * HOUR,
    expectedFreshReads: share(freshRate, readRate),
    computedAt: computedAt.toISOString(),
    readCounter,
  };
}

/**
 * The learned rates per horizon for status and the operator page: one aggregate shared by every
 * caller (SharedReading), recomputed in the background once it is LEARNED_STATUS_SHARE_MS old
 * while the last one is answered; the last one (or null) while the database cannot answer.
 */
@Injectable()
export class LearnedRatesStatusService {
  private readonly logger = new Logger(LearnedRatesStatusService.name);
  private readonly reading = new SharedReading<LearnedRatesStatus>(LEARNED_STATUS_SHARE_MS);
  private last: LearnedRatesStatus | null = null;

  constructor(
    private readonly repository: LearnedRatesRepository,
    private readonly observations: ChangeObservationsRepository,
    private readonly demand: ReadDemandService,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    private readonly clock: Clock,
    private readonly outage: DatabaseOutageReporter,
  ) {}

  /** Never throws: status must answer without it. */
  async current(): Promise<LearnedRatesStatus | null> {
    const next = this.reading
      .read(() => this.compute())
      .then((value) => {
        this.last = value;
        return value;
      })
      .catch((err: unknown) => {
        if (!this.outage.report('learned rates status', err)) {
          this.logger.warn({ msg: 'learned rates not read', error: (err as Error).message });
        }
        return this.last;
      });
    const value = this.last ?? (await next);
    // The counter is this process's, read now (it costs nothing).
    return value && { ...value, readCounter: this.demand.stats() };
  }

  private async compute(): Promise<LearnedRatesStatus> {
    const now = this.clock.now();
    const { productIds, timeZone } = this.config.sync;
    const sums = await this.repository.horizonSums({
      productIds,
      today: todayIn(timeZone, now),
      policy: this.policy,
      now,
      readHalfLifeSeconds: this.config.learning.readHalfLifeMs / 1000,
    });
    const lastHour = await this.observations.bucketsSince(
      productIds,
      timeZone,
      this.policy.horizons,
      new Date(now.getTime() - 3_600_000),
    );
    const syncs = Object.fromEntries(
      lastHour.map((h) => [h.name, h.buckets.reduce((a, b) => a + b.changed + b.unchanged, 0)]),
    );
    return learnedRatesStatus(sums, now, this.demand.stats(), syncs);
  }
}
