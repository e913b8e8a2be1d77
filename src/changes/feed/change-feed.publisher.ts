import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { DatabaseOutageReporter } from '../../common/database-unavailable';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import type { Prisma } from '../../generated/prisma/client';
import {
  ChangeEventsRepository,
  type ChangeEvent,
} from '../../inventory/changes/change-events.repository';

/** How often committed events are given their cursor (the feed's and the webhooks' delay). */
export const PUBLISH_INTERVAL_MS = 200;
/** Events numbered per publishing transaction, at most. */
export const PUBLISH_BATCH = 1000;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const PRUNE_BATCH = 5000;

/** Something to do with the events just published, in their publishing transaction. */
export type PublishHook = (tx: Prisma.TransactionClient, events: ChangeEvent[]) => Promise<void>;

/**
 * Runs on every instance: gives committed events their cursor (instances take turns on the state
 * row, see ChangeEventsRepository.publish) and prunes events past the retention in batches.
 */
@Injectable()
export class ChangeFeedPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeFeedPublisher.name);
  private publishTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly hooks: PublishHook[] = [];
  private readonly listeners: Array<(events: ChangeEvent[]) => void> = [];

  constructor(
    private readonly events: ChangeEventsRepository,
    @InjectConfig() private readonly config: AppConfig,
    // While the database is down these polls fail every 200 ms: the outage logs them, not we.
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {}

  /** Runs `hook` inside each publishing transaction (the webhooks queue their deliveries). */
  addHook(hook: PublishHook): void {
    this.hooks.push(hook);
  }

  /** Called after each publishing transaction that published events commits. */
  onPublished(listener: (events: ChangeEvent[]) => void): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    this.publishTimer = setInterval(() => void this.publishOnce(), PUBLISH_INTERVAL_MS);
    this.pruneTimer = setInterval(() => void this.pruneOnce(), PRUNE_INTERVAL_MS);
    this.publishTimer.unref();
    this.pruneTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.publishTimer);
    clearInterval(this.pruneTimer);
  }

  /** Publishes until nothing is left; one run at a time. Returns the events published. */
  async publishOnce(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let total = 0;
    try {
      for (;;) {
        const published = await this.events.publish(PUBLISH_BATCH, async (tx, events) => {
          for (const hook of this.hooks) await hook(tx, events);
        });
        total += published.length;
        if (published.length > 0) for (const l of this.listeners) l(published);
        if (published.length < PUBLISH_BATCH) break;
      }
    } catch (err) {
      if (!this.outage?.report('change feed publish', err)) {
        this.logger.warn({ msg: 'change feed: publishing failed, retried shortly', err });
      }
    } finally {
      this.running = false;
    }
    return total;
  }

  async pruneOnce(): Promise<number> {
    try {
      const pruned = await this.events.prune(this.config.changeFeed.retentionMs, PRUNE_BATCH);
      if (pruned > 0)
        this.logger.log({ msg: 'change feed: pruned events past the retention', pruned });
      return pruned;
    } catch (err) {
      if (!this.outage?.report('change feed prune', err)) {
        this.logger.warn({ msg: 'change feed: pruning failed, retried later', err });
      }
      return 0;
    }
  }
}
