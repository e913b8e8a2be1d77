import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { SyncWindow } from './sync-window';
import type { StaleWriteReason } from './sync/stale-write.error';

/** A product-date whose stored slots changed (a sync wrote new, changed or removed rows). */
export interface ProductDateChanged {
  productId: number;
  /** YYYY-MM-DD */
  date: string;
}

/** A sync run that ended (ok, partial, failed or skipped), for metrics. */
export interface SyncRunFinished {
  window: SyncWindow;
  outcome: string;
  durationSeconds: number;
  finishedAt: Date;
}

/** A fetch's store or failure record refused as stale (nothing of it was written), for metrics. */
export interface StaleWriteRejected {
  productId: number;
  /** YYYY-MM-DD */
  date: string;
  reason: StaleWriteReason;
}

/**
 * In-process events of the inventory: the sync emits, the read cache listens; runs emit, the
 * metrics (ops, a layer above) listen, so nothing here imports upward. Kept as a plain
 * injectable so listeners need no framework magic and tests can subscribe directly.
 */
@Injectable()
export class InventoryEvents {
  readonly productDateChanged$ = new Subject<ProductDateChanged>();

  readonly syncRunFinished$ = new Subject<SyncRunFinished>();

  readonly staleWriteRejected$ = new Subject<StaleWriteRejected>();

  emitProductDateChanged(event: ProductDateChanged): void {
    this.productDateChanged$.next(event);
  }

  emitSyncRunFinished(event: SyncRunFinished): void {
    this.syncRunFinished$.next(event);
  }

  emitStaleWriteRejected(event: StaleWriteRejected): void {
    this.staleWriteRejected$.next(event);
  }
}
