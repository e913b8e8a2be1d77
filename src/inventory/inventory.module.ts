import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ClockModule } from '../common/clock';
import { CoreModule } from '../core/core.module';
import { PartnerModule } from '../partner/partner.module';
import { AccuracyEstimateService } from './accuracy/accuracy-estimate.service';
import { ChangeObservationsRepository } from './accuracy/change-observations.repository';
import { ChangeEventsRepository } from './changes/change-events.repository';
import { SyncControlController } from './control/sync-control.controller';
import { SyncControlRepository } from './control/sync-control.repository';
import { AdminFailures } from './control/admin-failures';
import { SyncControlService } from './control/sync-control.service';
import { SyncStatusService } from './control/sync-status.service';
import { FreshnessController } from './freshness/freshness.controller';
import { FreshnessService } from './freshness/freshness.service';
import { DispatcherService } from './dispatch/dispatcher.service';
import { DueListRepository } from './due/due-list.repository';
import { ValueRankRepository } from './due/value-rank.repository';
import { InventoryEvents } from './inventory-events';
import { ChangeRatePoolsRepository } from './learning/change-rate-pools.repository';
import { ChangeRatePoolsService } from './learning/change-rate-pools.service';
import { LearnedRatesRepository } from './learning/learned-rates.repository';
import { LearnedRatesStatusService } from './learning/learned-rates-status.service';
import { ReadDemandRepository } from './learning/read-demand.repository';
import { ReadDemandService } from './learning/read-demand.service';
import { SYNC_POLICY, syncPolicyProvider } from './policy/sync-policy.provider';
import { ProductsRepository } from './products/products.repository';
import { ReadCacheInvalidator } from './read/read-cache';
import { SlotAnswersRepository } from './read/slot-answers.repository';
import { SlotController } from './read/slot.controller';
import { SlotReadService } from './read/slot-read.service';
import { SyncRunsService } from './runs/sync-runs.service';
import { OverdueRuleService } from './schedule/overdue-rule.service';
import { PerProductCallsService } from './schedule/per-product-calls.service';
import { RunMonitorService } from './schedule/run-monitor.service';
import { inventoryLeadershipProvider } from './schedule/leadership';
import { SchedulerService } from './schedule/scheduler.service';
import { ProductDateStore } from './sync/product-date-store';
import { SyncService } from './sync/sync.service';

/** What the inventory needs from a feature above it, bound by the app's wiring. */
export interface InventoryPorts {
  /**
   * Modules that export the inventory's ports: ReadCache (required), LEADERSHIP (optional:
   * without it this instance always leads) and WEBHOOKS_STATUS (optional: status then shows
   * `webhooks: null`). The cluster feature provides the first two, the change feed the third.
   */
  imports: NonNullable<ModuleMetadata['imports']>;
}

/**
 * Sync (due list, dispatcher, service, scheduler, control) and the read API of slots and dates.
 * The ports come in through forRoot, so no inventory file imports the features that implement
 * them; pass the same returned module to every importer (Nest keys modules by reference).
 */
@Module({})
export class InventoryModule {
  static forRoot(ports: InventoryPorts): DynamicModule {
    return {
      module: InventoryModule,
      imports: [ScheduleModule.forRoot(), ClockModule, CoreModule, PartnerModule, ...ports.imports],
      // Static sync/... routes first: they must win over api/v1/experience/:productId.
      controllers: [SyncControlController, FreshnessController, SlotController],
      providers: [
        PerProductCallsService,
        syncPolicyProvider,
        inventoryLeadershipProvider,
        InventoryEvents,
        FreshnessService,
        ReadCacheInvalidator,
        SlotReadService,
        SlotAnswersRepository,
        DueListRepository,
        ValueRankRepository,
        ProductsRepository,
        ChangeEventsRepository,
        SyncControlRepository,
        SyncRunsService,
        ProductDateStore,
        SyncService,
        DispatcherService,
        SyncControlService,
        AdminFailures,
        OverdueRuleService,
        RunMonitorService,
        SchedulerService,
        SyncStatusService,
        ChangeObservationsRepository,
        AccuracyEstimateService,
        ChangeRatePoolsRepository,
        ChangeRatePoolsService,
        ReadDemandRepository,
        ReadDemandService,
        LearnedRatesRepository,
        LearnedRatesStatusService,
      ],
      // SchedulerService, SyncControlService: ops reads their state (health, metrics) and stops
      // runs; InventoryEvents: run metrics; DueListRepository: the data gauges; SYNC_POLICY:
      // the metrics' horizons; AccuracyEstimateService: the accuracy gauges.
      exports: [
        AccuracyEstimateService,
        InventoryEvents,
        SchedulerService,
        SyncControlService,
        AdminFailures,
        DueListRepository,
        SYNC_POLICY,
        ChangeEventsRepository,
      ],
    };
  }
}
