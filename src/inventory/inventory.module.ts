import { Module } from '@nestjs/common';
import { InventoryEvents } from './inventory-events';

/** Sync (service, scheduler, control) and the read API of slots and dates. */
@Module({
  providers: [InventoryEvents],
  exports: [InventoryEvents],
})
export class InventoryModule {}
