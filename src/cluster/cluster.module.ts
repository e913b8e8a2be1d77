import { Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { ReadCache } from '../inventory/read/read-cache';
import { LEADERSHIP } from '../inventory/schedule/leadership';
import { ClusterCoordinator, ClusterLeadership } from './cluster-leadership';
import { ClusterNotifications } from './cluster-notifications.service';
import { ClusterReadCache } from './cluster-read-cache';
import { LeaderLeaseRepository } from './leader-lease.repository';
import { LeaderLeaseService } from './leader-lease.service';

/**
 * Running several instances on one PostgreSQL: the sync leader lease (one instance runs the
 * schedules and calls the partner), cross-instance signals (LISTEN/NOTIFY) and the read cache
 * shared through Redis or invalidated through those signals. It implements two ports the
 * inventory owns (LEADERSHIP, ReadCache) and is handed to InventoryModule by the app's wiring, so
 * no inventory file imports it. It imports CoreModule, so it starts after the database and
 * releases the lease before the pool closes.
 */
@Module({
  imports: [CoreModule],
  providers: [
    LeaderLeaseRepository,
    LeaderLeaseService,
    ClusterNotifications,
    ClusterReadCache,
    ClusterLeadership,
    { provide: LEADERSHIP, useExisting: ClusterLeadership },
    { provide: ReadCache, useExisting: ClusterReadCache },
    ClusterCoordinator,
  ],
  exports: [LeaderLeaseService, ClusterNotifications, ClusterReadCache, LEADERSHIP, ReadCache],
})
export class ClusterModule {}
