import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import type { PartnerCallOutcome } from '../partner/partner.types';

/** Every metric name starts with this, in Prometheus' snake_case. */
export const METRIC_PREFIX = 'inventory_sync_';

/**
 * The service's Prometheus registry and the counters other features push to. Gauges that read
 * state (queue depth, budget, data age) are registered by the ops module with collect() callbacks.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly partnerCalls = new Counter({
    name: `${METRIC_PREFIX}partner_calls_total`,
    help: 'Partner API calls by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly partnerCallDuration = new Histogram({
    name: `${METRIC_PREFIX}partner_call_duration_seconds`,
    help: 'Duration of partner API calls',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /** Record one partner call (durationSeconds omitted when no request was sent, e.g. breaker open). */
  recordPartnerCall(outcome: PartnerCallOutcome, durationSeconds?: number): void {
    this.partnerCalls.inc({ outcome });
    if (durationSeconds !== undefined)
      this.partnerCallDuration.observe({ outcome }, durationSeconds);
  }
}
