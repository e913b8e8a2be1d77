import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { InventoryEvents } from '../inventory/inventory-events';
import { MetricsService } from './metrics.service';

/**
 * Counts the runs the inventory reports as finished, and the stale writes its store refused (the
 * inventory does not know about metrics).
 */
@Injectable()
export class SyncRunMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly events: InventoryEvents,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.subscriptions.push(
      this.events.syncRunFinished$.subscribe((run) =>
        this.metrics.recordSyncRun(run.window, run.outcome, run.durationSeconds, run.finishedAt),
      ),
      this.events.staleWriteRejected$.subscribe((w) => this.metrics.staleWriteRejected(w.reason)),
    );
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }
}
