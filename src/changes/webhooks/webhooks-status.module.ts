import { Module } from '@nestjs/common';
import { CoreModule } from '../../core/core.module';
import { WEBHOOKS_STATUS } from '../../inventory/changes/webhooks-status';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksStatusReader } from './webhooks-status-reader';

/**
 * The webhook tables' repository and the inventory's WEBHOOKS_STATUS port bound to it. Apart from
 * ChangesModule, which imports the inventory: the app hands this one to InventoryModule as a port
 * module, so the modules import each other in one direction only.
 */
@Module({
  imports: [CoreModule],
  providers: [
    WebhooksRepository,
    WebhooksStatusReader,
    { provide: WEBHOOKS_STATUS, useExisting: WebhooksStatusReader },
  ],
  exports: [WebhooksRepository, WEBHOOKS_STATUS],
})
export class WebhooksStatusModule {}
