import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { InventoryEvents } from '../inventory/inventory-events';
import { MetricsService } from './metrics.service';

/** Counts the runs the inventory reports as finished (the inventory does not know about metrics). */
@Injectable()
export class SyncRunMetrics implements OnModuleInit, OnModuleDestroy {
  private subscription: Subscription | null = null;

  constructor(
    private readonly events: InventoryEvents,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.subscription = this.events.syncRunFinished$.subscribe((run) =>
      this.metrics.recordSyncRun(run.window, run.outcome, run.durationSeconds, run.finishedAt),
    );
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
