import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DatabaseOutage } from '../../core/database/database-outage';
import { addDays } from '../calendar';
import type { SyncPolicy } from '../policy/sync-policy';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import { ReadDemandCounter, type ReadCount } from './read-demand-counter';
import { READ_DEMAND_BATCH, ReadDemandRepository } from './read-demand.repository';

/**
 * How many product-dates the counter holds, as a multiple of those the sync keeps: room for the
 * day's dates to roll over during an outage before reads of new ones are dropped.
 */
const COUNTER_ROOM = 2;

export interface ReadDemandStats {
  /** Product-dates counted and not yet flushed. */
  pending: number;
  /** Reads written to the database by this instance since it started. */
  flushedReads: number;
  /** Reads dropped because the counter was full (a long outage). */
  droppedReads: number;
  lastFlushAt: string | null;
}

/**
 * Counts the slots reads this instance serves, per product-date, before the read cache (a cached
 * answer is a read too): in process, no database write or await on the read path. Every
 * READ_DEMAND_FLUSH_MS, and once more before the database closes, the counts go to read_demand
 * in one batched statement. While the database is down they keep being counted (bounded) and
 * wait for the next flush after it answers again; failures go to the outage, not a line each.
 */
@Injectable()
export class ReadDemandService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReadDemandService.name);
  private readonly counter: ReadDemandCounter;
  private readonly halfLifeSeconds: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private flushedReads = 0;
  private lastFlushAt: Date | null = null;
  /** The last date counted for the memoised today (today + the policy's last day). */
  private range = { today: '', last: '' };

  constructor(
    private readonly repository: ReadDemandRepository,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: Pick<SyncPolicy, 'lastDay'>,
    private readonly outage: DatabaseOutage,
  ) {
    this.counter = new ReadDemandCounter(
      COUNTER_ROOM * Math.max(1, config.sync.productIds.length) * (policy.lastDay + 1),
    );
    this.halfLifeSeconds = config.learning.readHalfLifeMs / 1000;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.learning.readFlushMs);
    this.timer.unref();
  }

  /** The last flush, before PrismaService closes the pool (it is destroyed after this module). */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A flush in progress took what was counted before it; the second takes the rest.
    await this.flush();
    await this.flush();
  }

  /**
   * One read of a product-date (YYYY-MM-DD) served on `today` (the sync time zone's): counted
   * when the date is one the sync keeps (today .. today + lastDay), so reads of the past or far
   * future neither grow the map nor the table.
   */
  count(productId: number, date: string, today: string): void {
    if (this.range.today !== today) {
      this.range = { today, last: addDays(today, this.policy.lastDay) };
    }
    if (date < today || date > this.range.last) return;
    this.counter.count(productId, date);
  }

  stats(): ReadDemandStats {
    return {
      pending: this.counter.size,
      flushedReads: this.flushedReads,
      droppedReads: this.counter.dropped,
      lastFlushAt: this.lastFlushAt?.toISOString() ?? null,
    };
  }

  /**
   * Writes what was counted (one flush at a time; a call during one waits for it). Counts a
   * statement could not write because the database is unavailable are put back for the next.
   */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.counter.size === 0 || this.outage.isDown()) return;
    this.flushing = this.write(this.counter.take()).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async write(counts: ReadCount[]): Promise<void> {
    for (let i = 0; i < counts.length; i += READ_DEMAND_BATCH) {
      const batch = counts.slice(i, i + READ_DEMAND_BATCH);
      try {
        await this.repository.add(batch, this.halfLifeSeconds);
        for (const c of batch) this.flushedReads += c.reads;
      } catch (err) {
        const rest = counts.slice(i);
        if (this.outage.report('read demand flush', err)) {
          this.counter.restore(rest);
          return;
        }
        // Not an outage: the same statement would fail again, so these counts are given up.
        this.logger.warn({
          msg: 'read demand not written',
          productDates: rest.length,
          error: (err as Error).message,
        });
        return;
      }
    }
    this.lastFlushAt = new Date();
  }
}
