import { Module } from '@nestjs/common';
import { InventoryEvents } from './inventory-events';
import { LruReadCache, ReadCache, ReadCacheInvalidator } from './read/read-cache';
import { SlotController } from './read/slot.controller';
import { SlotReadService } from './read/slot-read.service';

/** Sync (service, scheduler, control) and the read API of slots and dates. */
@Module({
  // Static sync/... controllers go before SlotController: they must win over :productId.
  controllers: [SlotController],
  providers: [
    InventoryEvents,
    { provide: ReadCache, useClass: LruReadCache },
    ReadCacheInvalidator,
    SlotReadService,
  ],
  exports: [InventoryEvents, ReadCache],
})
export class InventoryModule {}
