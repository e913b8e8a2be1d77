import { type DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { ChangeFeedController } from './feed/change-feed.controller';
import { ChangeFeedPublisher } from './feed/change-feed.publisher';
import { WebhookDeliveryService } from './webhooks/webhook-delivery.service';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksRepository } from './webhooks/webhooks.repository';
import { WebhooksService } from './webhooks/webhooks.service';

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
      imports: [CoreModule, inventory],
      controllers: [ChangeFeedController, WebhooksController],
      providers: [ChangeFeedPublisher, WebhooksRepository, WebhooksService, WebhookDeliveryService],
      // Ops: status and metrics of the feed and the deliveries.
      exports: [ChangeFeedPublisher, WebhooksRepository, WebhookDeliveryService],
    };
  }
}
