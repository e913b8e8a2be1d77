import { Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { DatabaseOutageReporter } from '../common/database-unavailable';
import { ChangeFeedPublisher } from '../changes/feed/change-feed.publisher';
import { WebhookDeliveryService } from '../changes/webhooks/webhook-delivery.service';
import { WebhooksRepository } from '../changes/webhooks/webhooks.repository';
import { METRIC_PREFIX, MetricsService } from './metrics.service';

type WebhookSummary = { lagSeconds: number; enabled: number; disabled: number };
const SUMMARY_SHARED_MS = 1000;

/**
 * The change feed's metrics: events published (counted by the instance that numbered them),
 * webhook attempts by outcome (counted by the instance that made them), and the webhooks' lag
 * read from the database (the same on every instance).
 */
@Injectable()
export class ChangeFeedMetrics implements OnModuleInit {
  private readonly logger = new Logger(ChangeFeedMetrics.name);

  constructor(
    private readonly metrics: MetricsService,
    private readonly publisher: ChangeFeedPublisher,
    private readonly deliveries: WebhookDeliveryService,
    private readonly webhooks: WebhooksRepository,
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const events = new Counter({
      name: `${METRIC_PREFIX}change_events_total`,
      help: 'Change events written by the store and published to the feed, by type',
      labelNames: ['type'] as const,
      registers,
    });
    this.publisher.onPublished((published) => {
      for (const e of published) events.inc({ type: e.type });
    });
    const attempts = new Counter({
      name: `${METRIC_PREFIX}webhook_attempts_total`,
      help: 'Webhook delivery attempts by outcome (delivered; retry: failed, retried later; given_up: failed for WEBHOOK_RETRY_HOURS, subscription disabled)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.deliveries.observe((outcome) => attempts.inc({ outcome }));
    // One reading serves both gauges of a scrape (kept a second); during a database outage the
    // outage reports the failures, once, instead of a line per scrape.
    let reading: { at: number; summary: Promise<WebhookSummary | null> } | null = null;
    const lag = (): Promise<WebhookSummary | null> => {
      if (reading && Date.now() - reading.at < SUMMARY_SHARED_MS) return reading.summary;
      const summary = this.webhooks.summary().catch((err: unknown) => {
        if (!this.outage?.report('webhook metrics', err)) {
          this.logger.warn({ msg: 'webhook metrics: the database did not answer', err });
        }
        return null;
      });
      reading = { at: Date.now(), summary };
      return summary;
    };
    new Gauge({
      name: `${METRIC_PREFIX}webhook_lag_seconds`,
      help: 'Age of the oldest undelivered webhook message of an enabled subscription (0: none waits)',
      registers,
      async collect() {
        const s = await lag();
        if (s) this.set(s.lagSeconds);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}webhook_subscriptions`,
      help: 'Webhook subscriptions by state (enabled, disabled after persistent failure)',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const s = await lag();
        if (!s) return;
        this.set({ state: 'enabled' }, s.enabled);
        this.set({ state: 'disabled' }, s.disabled);
      },
    });
  }
}
