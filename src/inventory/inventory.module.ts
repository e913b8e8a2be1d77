import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ClusterReadCache } from '../cluster/cluster-read-cache';
import { PartnerModule } from '../partner/partner.module';
import { SyncControlController } from './control/sync-control.controller';
import { SyncControlService } from './control/sync-control.service';
import { SyncStatusService } from './control/sync-status.service';
import { FreshnessController } from './freshness/freshness.controller';
import { FreshnessService } from './freshness/freshness.service';
import { DispatcherService } from './dispatch/dispatcher.service';
import { DueListRepository } from './due/due-list.repository';
import { InventoryEvents } from './inventory-events';
import { SYNC_POLICY, syncPolicyProvider } from './policy/sync-policy.provider';
import { ReadCache, ReadCacheInvalidator } from './read/read-cache';
import { SlotController } from './read/slot.controller';
import { SlotReadService } from './read/slot-read.service';
import { SyncRunsService } from './runs/sync-runs.service';
import { OverdueRuleService } from './schedule/overdue-rule.service';
import { ProductRegistry } from './schedule/product-registry';
import { RunMonitorService } from './schedule/run-monitor.service';
import { SchedulerService } from './schedule/scheduler.service';
import { SyncService } from './sync/sync.service';

/** Sync (service, scheduler, control) and the read API of slots and dates. */
@Module({
  imports: [ScheduleModule.forRoot(), PartnerModule],
  // Static sync/... routes first: they must win over api/v1/experience/:productId.
  controllers: [SyncControlController, FreshnessController, SlotController],
  providers: [
    syncPolicyProvider,
    InventoryEvents,
    FreshnessService,
    // The cluster's cache: shared through Redis, or in-process with cross-instance invalidation.
    { provide: ReadCache, useExisting: ClusterReadCache },
    ReadCacheInvalidator,
    SlotReadService,
    DueListRepository,
    SyncRunsService,
    SyncService,
    DispatcherService,
    SyncControlService,
    ProductRegistry,
    OverdueRuleService,
    RunMonitorService,
    SchedulerService,
    SyncStatusService,
  ],
  // SchedulerService, SyncControlService: ops reads their state (health, metrics) and stops runs;
  // SYNC_POLICY: the metrics' horizons.
  exports: [InventoryEvents, ReadCache, SchedulerService, SyncControlService, SYNC_POLICY],
})
export class InventoryModule {}
