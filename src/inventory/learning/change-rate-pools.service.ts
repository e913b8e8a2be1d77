import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { DatabaseOutageReporter } from '../../common/database-unavailable';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { todayIn } from '../calendar';
import type { SyncPolicy } from '../policy/sync-policy';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import { InjectLeadership, type Leadership } from '../schedule/leadership';
import { ChangeRatePoolsRepository } from './change-rate-pools.repository';
import { ReadDemandRepository } from './read-demand.repository';

/**
 * Keeps change_rate_pools up to date on the sync leader: at boot (when leading) and every
 * CHANGE_RATE_POOLS_REFRESH_MS (5 min), one set-based statement per batch of products; then deletes the read counts of
 * dates before today. Followers do nothing: the pools
 * are in PostgreSQL, so a new leader ranks by them at once and refreshes them within the period.
 */
@Injectable()
export class ChangeRatePoolsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ChangeRatePoolsService.name);
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | null = null;
  private stopped = false;
  private lastRefreshAt: Date | null = null;

  constructor(
    private readonly pools: ChangeRatePoolsRepository,
    private readonly readDemand: ReadDemandRepository,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    private readonly clock: Clock,
    private readonly outage: DatabaseOutageReporter,
    @InjectLeadership() private readonly leadership: Leadership,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.refresh(), this.config.learning.poolsRefreshMs);
    this.timer.unref();
    // Not awaited: the boot does not wait for priors (the rule ranks from the defaults meanwhile).
    void this.refresh();
  }

  /** Stops the period and waits for a refresh in progress: the database closes after this. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.refreshing;
  }

  /** When this instance last refreshed the pools (null: never). */
  lastRefreshed(): Date | null {
    return this.lastRefreshAt;
  }

  /** Recomputes every configured product's pools when leading (one refresh at a time). */
  async refresh(): Promise<void> {
    if (this.refreshing || this.stopped || !this.leadership.isLeader())
      return this.refreshing ?? undefined;
    const now = this.clock.now();
    const today = todayIn(this.config.sync.timeZone, now);
    this.refreshing = this.pools
      .refresh({ productIds: this.config.sync.productIds, today, policy: this.policy })
      // The read counts of past dates are read no more.
      .then(() => this.readDemand.deleteBefore(today))
      .then(() => {
        this.lastRefreshAt = now;
      })
      .catch((err: unknown) => {
        if (this.outage.report('change rate pools', err)) return;
        this.logger.warn({ msg: 'change rate pools not refreshed', error: (err as Error).message });
      })
      .finally(() => {
        this.refreshing = null;
      });
    await this.refreshing;
  }
}
