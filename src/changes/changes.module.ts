import { type DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { ChangeFeedController } from './feed/change-feed.controller';
import { ChangeFeedPublisher } from './feed/change-feed.publisher';
import { WebhookDeliveryService } from './webhooks/webhook-delivery.service';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksService } from './webhooks/webhooks.service';
import { WebhooksStatusModule } from './webhooks/webhooks-status.module';

/**
 * The change feed for consumers (issue 27): the pull feed, the publisher that numbers the events
 * the store writes, and the webhooks. It reads inventory's ChangeEventsRepository, passed in as
 * the same InventoryModule the app imports.
 */
@Module({})
export class ChangesModule {
  static forRoot(inventory: DynamicModule): DynamicModule {
    return {
      module: ChangesModule,
      imports: [CoreModule, inventory, WebhooksStatusModule],
      controllers: [ChangeFeedController, WebhooksController],
      providers: [ChangeFeedPublisher, WebhooksService, WebhookDeliveryService],
      // Ops: status and metrics of the feed and the deliveries (WebhooksRepository comes with
      // WebhooksStatusModule).
      exports: [ChangeFeedPublisher, WebhooksStatusModule, WebhookDeliveryService],
    };
  }
}
