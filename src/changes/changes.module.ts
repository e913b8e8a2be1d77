import { type DynamicModule, Module } from '@nestjs/common';
import { ChangeFeedController } from './feed/change-feed.controller';
import { ChangeFeedPublisher } from './feed/change-feed.publisher';

/**
 * The change feed for consumers (issue 27): the pull feed and the publisher that numbers the
 * events the store writes. It reads inventory's ChangeEventsRepository, passed in as the same
 * InventoryModule the app imports.
 */
@Module({})
export class ChangesModule {
  static forRoot(inventory: DynamicModule): DynamicModule {
    return {
      module: ChangesModule,
      imports: [inventory],
      controllers: [ChangeFeedController],
      providers: [ChangeFeedPublisher],
      exports: [ChangeFeedPublisher],
    };
  }
}
