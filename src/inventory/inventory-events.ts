import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';

/** A product-date whose stored slots changed (a sync wrote new, changed or removed rows). */
export interface ProductDateChanged {
  productId: number;
  /** YYYY-MM-DD */
  date: string;
}

/**
 * In-process events of the inventory: the sync emits, the read cache listens. Kept as a plain
 * injectable so listeners need no framework magic and tests can subscribe directly.
 */
@Injectable()
export class InventoryEvents {
  readonly productDateChanged$ = new Subject<ProductDateChanged>();

  emitProductDateChanged(event: ProductDateChanged): void {
    this.productDateChanged$.next(event);
  }
}
