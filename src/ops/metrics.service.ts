import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SyncWindow } from '../inventory/sync-window';
import type { LimiterObserver, PartnerKeyName } from '../core/rate-limiter/rate-limiter.types';

/** Every metric name starts with this, in Prometheus' snake_case. */
export const METRIC_PREFIX = 'inventory_sync_';

/**
 * The service's Prometheus registry and the counters other features push to. Gauges that read
 * state (queue depth, budget, data age) are registered by the ops module with collect() callbacks.
 */
@Injectable()
export class MetricsService implements LimiterObserver {
  readonly registry = new Registry();

  private readonly partnerCalls = new Counter({
    name: `${METRIC_PREFIX}partner_calls_total`,
    help: 'Partner API calls by outcome and key ("key #1"; never the key itself)',
    labelNames: ['outcome', 'key'] as const,
    registers: [this.registry],
  });

  private readonly partnerCallDuration = new Histogram({
    name: `${METRIC_PREFIX}partner_call_duration_seconds`,
    help: 'Duration of partner API calls, by outcome and key',
    labelNames: ['outcome', 'key'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly syncRuns = new Counter({
    name: `${METRIC_PREFIX}sync_runs_total`,
    help: 'Finished sync window runs by window and outcome (ok, partial, failed, skipped, interrupted)',
    labelNames: ['window', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly syncRunDuration = new Histogram({
    name: `${METRIC_PREFIX}sync_run_duration_seconds`,
    help: 'Duration of sync window runs',
    labelNames: ['window'] as const,
    // A quarter-hourly run takes seconds; a daily run of many products can take most of an hour.
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers: [this.registry],
  });

  private readonly lastSuccessfulRun = new Gauge({
    name: `${METRIC_PREFIX}last_successful_run_timestamp_seconds`,
    help: 'Unix time at which the last run of each window finished with outcome ok',
    labelNames: ['window'] as const,
    registers: [this.registry],
  });

  private readonly staleWritesRejected = new Counter({
    name: `${METRIC_PREFIX}stale_writes_rejected_total`,
    help: 'Fetched answers (or failure records) refused by the fenced store, nothing written: fenced (lease term lost), superseded (newer data stored)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly httpRequestDuration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'HTTP requests served, by method, route template (or "unmatched") and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    // prom-client names these gauges with a counter's suffix, which promtool rejects; the same
    // numbers remain as nodejs_active_{handles,requests,resources}{type} (sum them for a total).
    for (const kind of ['handles', 'requests', 'resources']) {
      this.registry.removeSingleMetric(`${METRIC_PREFIX}nodejs_active_${kind}_total`);
    }
    // Both series exist from the start, so an alert on their increase sees the first one.
    for (const reason of ['fenced', 'superseded']) this.staleWritesRejected.inc({ reason }, 0);
  }

  /** One partner call ended (the limiter observes; durationSeconds omitted when nothing was sent). */
  partnerCall(key: PartnerKeyName, outcome: string, durationSeconds?: number): void {
    const labels = { outcome, key: key.label };
    this.partnerCalls.inc(labels);
    if (durationSeconds !== undefined) this.partnerCallDuration.observe(labels, durationSeconds);
  }

  /** Record one finished run of a window; outcome "ok" also moves the last-success time. */
  recordSyncRun(
    window: SyncWindow,
    outcome: string,
    durationSeconds: number,
    finishedAt: Date = new Date(),
  ): void {
    this.syncRuns.inc({ window, outcome });
    this.syncRunDuration.observe({ window }, durationSeconds);
    if (outcome === 'ok') this.lastSuccessfulRun.set({ window }, finishedAt.getTime() / 1000);
  }

  /** One write of a fetch's outcome refused as stale (`fenced` or `superseded`). */
  staleWriteRejected(reason: string): void {
    this.staleWritesRejected.inc({ reason });
  }

  /** Record one HTTP request. `route` must be a template such as /api/v1/experience/:productId. */
  observeHttpRequest(method: string, route: string, status: number, durationSeconds: number): void {
    this.httpRequestDuration.observe({ method, route, status: String(status) }, durationSeconds);
  }
}
