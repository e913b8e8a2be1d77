import { Global, Module } from '@nestjs/common';
import { LEADERSHIP } from '../inventory/schedule/leadership';
import { ClusterCoordinator, ClusterLeadership } from './cluster-leadership';
import { ClusterNotifications } from './cluster-notifications.service';
import { ClusterReadCache } from './cluster-read-cache';
import { LeaderLeaseService } from './leader-lease.service';

/**
 * Running several instances on one PostgreSQL: the sync leader lease (one instance runs the
 * schedules and calls the partner), cross-instance signals (LISTEN/NOTIFY) and the read cache
 * shared through Redis or invalidated through those signals. Global and imported right after
 * CoreModule, so it starts after the database and releases the lease before the pool closes.
 */
@Global()
@Module({
  providers: [
    LeaderLeaseService,
    ClusterNotifications,
    ClusterReadCache,
    ClusterLeadership,
    { provide: LEADERSHIP, useExisting: ClusterLeadership },
    ClusterCoordinator,
  ],
  exports: [LeaderLeaseService, ClusterNotifications, ClusterReadCache, LEADERSHIP],
})
export class ClusterModule {}
