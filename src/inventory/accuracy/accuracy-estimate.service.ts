import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { isDatabaseUnavailable } from '../../common/database-unavailable';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { todayIn } from '../calendar';
import type { SyncPolicy } from '../policy/sync-policy';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import { horizonAccuracy, overallFreshReads } from './accuracy-estimate';
import type { AccuracyEstimate } from './accuracy.types';
import { PAGE_READING_LIMIT } from '../freshness/freshness.service';
import { changeRateMle } from './change-rate';
import { ChangeObservationsRepository } from './change-observations.repository';

/** Observations from the last day count: recent enough to follow a season, enough to converge. */
export const ESTIMATE_WINDOW_MS = 24 * 3_600_000;
/**
 * Status, metrics and the page ask often; the two aggregates run at most this often (they read a
 * day of observations and every product-date; slow ones less often: PAGE_READING_LIMIT), and
 * never while a request waits once there is an estimate: an older one is answered while the next
 * is computed.
 */
export const CACHE_MS = 15_000;
/** One history sample every 5 minutes, the last 24 h of them. */
export const SAMPLE_EVERY_MS = 5 * 60_000;
const HISTORY_SAMPLES = (24 * 3_600_000) / SAMPLE_EVERY_MS;
/** Observations are kept a week (per product-date rates need more than a day of them). */
const RETENTION_MS = 7 * 24 * 3_600_000;

export const ACCURACY_METHOD =
  'Poisson change rate per horizon by maximum likelihood over irregular intervals (Cho & Garcia-Molina 2003) ' +
  'from the last 24 h of syncs (changed or not since the previous sync); fresh = exp(-rate × age), ' +
  'averaged over product-dates (reads weighted uniformly; never-synced ones count as stale)';

/**
 * The live accuracy estimate: each horizon's change rate from what the syncs saw, and the
 * expected share of reads served fresh. Computed from two aggregates, cached a few seconds; a
 * sample every 5 minutes (kept in memory, so a restart starts the chart afresh).
 */
@Injectable()
export class AccuracyEstimateService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AccuracyEstimateService.name);
  private last: AccuracyEstimate | null = null;
  private lastAt = 0;
  /** How long the last estimate took to compute (ms): a slow one is kept longer. */
  private lastComputeMs = 0;
  private pending: Promise<AccuracyEstimate | null> | null = null;
  private readonly history: AccuracyEstimate['history'] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly observations: ChangeObservationsRepository,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.tick(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The last estimate, recomputed in the background once it is CACHE_MS old (the first call
   * waits for it); the last one (or null) while the database cannot answer. Never throws: status
   * and metrics must answer without it.
   */
  async current(): Promise<AccuracyEstimate | null> {
    if (!this.last) return this.refresh();
    if (Math.abs(this.clock.now().getTime() - this.lastAt) >= this.keepMs()) void this.refresh();
    return this.last;
  }

  /** CACHE_MS, or longer when the aggregates are slow (at scale): PAGE_READING_LIMIT. */
  private keepMs(): number {
    const { maxComputeShare, maxKeepMs } = PAGE_READING_LIMIT;
    return Math.max(CACHE_MS, Math.min(maxKeepMs, this.lastComputeMs / maxComputeShare));
  }

  /** Computes the estimate now (one computation at a time), or answers the last one on failure. */
  refresh(): Promise<AccuracyEstimate | null> {
    const now = this.clock.now();
    this.pending ??= this.compute(now)
      .then((estimate) => {
        this.last = estimate;
        this.lastAt = now.getTime();
        this.lastComputeMs = Math.max(0, this.clock.now().getTime() - now.getTime());
        this.sample(estimate);
        return estimate;
      })
      .catch((err: unknown) => {
        if (isDatabaseUnavailable(err)) {
          this.logger.debug({
            msg: 'accuracy estimate unavailable',
            error: (err as Error).message,
          });
        } else {
          this.logger.warn({ msg: 'accuracy estimate failed', error: (err as Error).message });
        }
        return this.last;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  private async tick(): Promise<void> {
    await this.refresh();
    try {
      await this.observations.deleteBefore(new Date(this.clock.now().getTime() - RETENTION_MS));
    } catch (err) {
      this.logger.debug({ msg: 'old observations not deleted', error: (err as Error).message });
    }
  }

  private sample(estimate: AccuracyEstimate): void {
    const lastAt = this.history.at(-1)?.at;
    if (lastAt && Date.parse(estimate.estimatedAt) - Date.parse(lastAt) < SAMPLE_EVERY_MS * 0.9) {
      return;
    }
    this.history.push({
      at: estimate.estimatedAt,
      expectedFreshReads: estimate.expectedFreshReads,
    });
    if (this.history.length > HISTORY_SAMPLES) this.history.shift();
  }

  private async compute(now: Date): Promise<AccuracyEstimate> {
    const { productIds, timeZone } = this.config.sync;
    const horizons = this.policy.horizons;
    const observed = await this.observations.bucketsSince(
      productIds,
      timeZone,
      horizons,
      new Date(now.getTime() - ESTIMATE_WINDOW_MS),
    );
    const rates = observed.map((o) => changeRateMle(o.buckets).ratePerSecond ?? 0);
    const fresh = await this.observations.freshSums(
      productIds,
      todayIn(timeZone, now),
      horizons,
      rates,
      now,
    );
    const perHorizon = horizons.map((h, i) => {
      const productDates = productIds.length * (h.toDay - h.fromDay + 1);
      return {
        productDates,
        ...horizonAccuracy({
          name: h.name,
          buckets: observed[i].buckets,
          productDates,
          freshSum: fresh[i].freshSum,
        }),
      };
    });
    return {
      expectedFreshReads: overallFreshReads(perHorizon),
      horizons: perHorizon.map(({ productDates: _, ...h }) => h),
      estimatedAt: now.toISOString(),
      windowSeconds: ESTIMATE_WINDOW_MS / 1000,
      method: ACCURACY_METHOD,
      history: [],
    };
  }

  /** The estimate with the last 24 h of samples (the status answer's `accuracy`). */
  async withHistory(): Promise<AccuracyEstimate | null> {
    const estimate = await this.current();
    return estimate ? { ...estimate, history: [...this.history] } : null;
  }
}
