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
import { ChangeFeedPublisher } from '../feed/change-feed.publisher';
import { backoffMs, retryAfterMs } from './retry';
import { signedHeaders } from './signing';
import { sendWebhook } from './webhook-sender';
import { WebhooksRepository, type ClaimedDelivery } from './webhooks.repository';

const POLL_INTERVAL_MS = 250;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const PRUNE_BATCH = 5000;
/** The longest wait between two attempts of one delivery. */
const MAX_BACKOFF_MS = 60 * 60_000;
/** A claim outlives the attempt's timeout by this much before another instance may take it. */
const LEASE_MARGIN_MS = 30_000;

/** What a delivery attempt did, for the metrics. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'given_up';

/**
 * Delivers the queued webhook messages. Every instance runs it: each claims its deliveries with
 * FOR UPDATE SKIP LOCKED and a lease (WebhooksRepository.claim), so one instance sends a given
 * message at a time, at most WEBHOOK_CONCURRENCY at once, the oldest of each subscription and
 * product-date first. At least once: a message whose instance died is sent again after its lease.
 */
@Injectable()
export class WebhookDeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryService.name);
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private claiming = false;
  private stopped = false;
  private readonly observers: Array<(outcome: DeliveryOutcome) => void> = [];

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly publisher: ChangeFeedPublisher,
    @InjectConfig() private readonly config: AppConfig,
    // While the database is down the claims fail every poll: the outage logs them, not we.
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {}

  /** Called once per attempt with how it ended (the metrics count them). */
  observe(observer: (outcome: DeliveryOutcome) => void): void {
    this.observers.push(observer);
  }

  onApplicationBootstrap(): void {
    this.publisher.addHook(async (tx, events) => {
      await this.repo.fanOutInTransaction(tx, events);
    });
    this.publisher.onPublished(() => void this.pump());
    this.timer = setInterval(() => void this.pump(), POLL_INTERVAL_MS);
    this.timer.unref();
    // Finished messages are kept as long as the feed's events, then deleted in batches.
    this.pruneTimer = setInterval(
      () =>
        void this.repo
          .pruneFinished(this.config.changeFeed.retentionMs, PRUNE_BATCH)
          .catch((err: unknown) => {
            if (!this.outage?.report('webhooks prune', err)) {
              this.logger.warn({ msg: 'webhooks: pruning failed', err });
            }
          }),
      PRUNE_INTERVAL_MS,
    );
    this.pruneTimer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
  }

  /** Claims as many deliveries as there is room for and sends them. */
  async pump(): Promise<void> {
    if (this.claiming || this.stopped) return;
    const room = this.config.webhooks.concurrency - this.inFlight;
    if (room <= 0) return;
    this.claiming = true;
    try {
      const claimed = await this.repo.claim(room, this.config.webhooks.timeoutMs + LEASE_MARGIN_MS);
      for (const d of claimed) {
        this.inFlight++;
        void this.deliver(d).finally(() => {
          this.inFlight--;
          void this.pump();
        });
      }
    } catch (err) {
      if (!this.outage?.report('webhooks claim', err)) {
        this.logger.warn({ msg: 'webhooks: claiming deliveries failed, retried shortly', err });
      }
    } finally {
      this.claiming = false;
    }
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const now = new Date();
    const secrets = d.secrets
      .filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime())
      .map((s) => s.secret);
    const headers = signedHeaders(d.msgId, now, d.body, secrets);
    const { timeoutMs, allowPrivateUrls, retryMs, retryBaseMs } = this.config.webhooks;
    const result = await sendWebhook(d.url, headers, d.body, {
      timeoutMs,
      allowPrivate: allowPrivateUrls,
    });
    try {
      if (result.ok) {
        await this.repo.markDelivered(d);
        this.emit('delivered');
        return;
      }
      const error = result.error ?? 'failed';
      const wait = Math.max(
        backoffMs(d.attempts, retryBaseMs, MAX_BACKOFF_MS),
        retryAfterMs(result.retryAfter, Date.now(), MAX_BACKOFF_MS) ?? 0,
      );
      const retryAt = new Date(Date.now() + wait);
      if (retryAt.getTime() - d.createdAt.getTime() > retryMs) {
        const reason = `gave up on ${d.msgId} after ${d.attempts} attempts over ${Math.round(retryMs / 3_600_000)} h; last error: ${error}`;
        await this.repo.markFailed(d, error, null, reason);
        this.logger.warn({
          msg: 'webhooks: subscription disabled',
          subscription: d.subscriptionId,
          reason,
        });
        this.emit('given_up');
      } else {
        await this.repo.markFailed(d, error, retryAt, null);
        this.emit('retry');
      }
    } catch (err) {
      // The lease runs out and another attempt follows: at least once.
      if (!this.outage?.report('webhooks record attempt', err)) {
        this.logger.warn({ msg: 'webhooks: recording an attempt failed', err });
      }
    }
  }

  private emit(outcome: DeliveryOutcome): void {
    for (const o of this.observers) o(outcome);
  }
}
