import { Global, Module } from '@nestjs/common';
import { LeaderLeaseService } from './leader-lease.service';

/**
 * Running several instances on one PostgreSQL: the sync leader lease (one instance runs the
 * schedules and calls the partner) and cross-instance cache invalidation. Global and imported
 * after CoreModule, so it starts after the database and releases the lease before it closes.
 */
@Global()
@Module({
  providers: [LeaderLeaseService],
  exports: [LeaderLeaseService],
})
export class ClusterModule {}
