import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { createValidationPipe } from './common/validation-pipe';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ChangesModule } from './changes/changes.module';
import { WebhooksStatusModule } from './changes/webhooks/webhooks-status.module';
import { ClusterModule } from './cluster/cluster.module';
import { CoreModule } from './core/core.module';
import { InventoryModule } from './inventory/inventory.module';
import { OpsModule } from './ops/ops.module';
import { UiModule } from './ui/ui.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    // The inventory's ports (leadership, read cache) are the cluster's, the webhooks' state in
    // status the change feed's; ops reads the inventory.
    const inventory = InventoryModule.forRoot({ imports: [ClusterModule, WebhooksStatusModule] });
    const changes = ChangesModule.forRoot(inventory);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        // CoreModule: the exception filter reports database outages through its reporter.
        CoreModule,
        inventory,
        changes,
        OpsModule.forRoot(inventory, changes),
        UiModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
