import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { skip, type Subscription } from 'rxjs';
import { RateLimiterService } from '../core/rate-limiter/rate-limiter.service';
import type { LimiterState } from '../core/rate-limiter/rate-limiter.types';
import type { Leadership } from '../inventory/schedule/leadership';
import { SchedulerService } from '../inventory/schedule/scheduler.service';
import { ClusterNotifications } from './cluster-notifications.service';
import { LeaderLeaseService } from './leader-lease.service';

/**
 * The lease seen through the sync engine's Leadership port (bound to LEADERSHIP): the scheduler
 * runs windows only while isLeader(), and status reports currentLeader() from the lease row.
 */
@Injectable()
export class ClusterLeadership implements Leadership {
  constructor(private readonly lease: LeaderLeaseService) {}

  instanceId(): string {
    return this.lease.instanceId;
  }

  isLeader(): boolean {
    return this.lease.isLeader();
  }

  currentLeader(): { id: string; since: string } | null {
    return this.lease.knownLeader();
  }

  /** Queue, budget and breaker as the leader published them (null: no live leader known). */
  leaderLimiterState(): LimiterState | null {
    return this.lease.knownLeaderLimiterState();
  }
}

/**
 * Wires the lease into the rest of the service: every partner call passes the lease's fenced
 * guard, the limiter's state is published with each heartbeat, a released lease is retried at
 * once, and a leadership gained after boot continues the due list.
 */
@Injectable()
export class ClusterCoordinator implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ClusterCoordinator.name);
  private readonly subscriptions: Subscription[] = [];
  private booted = false;

  constructor(
    private readonly lease: LeaderLeaseService,
    private readonly notifications: ClusterNotifications,
    private readonly limiter: RateLimiterService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    this.limiter.addStartGuard((key) => this.lease.beforePartnerCall(key.fingerprint));
    this.lease.setStateProvider(() => this.limiter.state());
    this.subscriptions.push(
      this.notifications.messages$.subscribe((m) => {
        if (m.type === 'lease-released') this.lease.attemptSoon();
      }),
      // skip(1): the leadership held at boot is the scheduler's own boot catch-up.
      this.lease.leadership$.pipe(skip(1)).subscribe((change) => {
        if (change.leader && this.booted) this.onLeadershipGained();
      }),
    );
  }

  onApplicationBootstrap(): void {
    this.booted = true;
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private onLeadershipGained(): void {
    const scheduler = this.moduleRef.get(SchedulerService, { strict: false });
    if (!this.lease.isLeader()) return;
    this.logger.log({ msg: 'leadership gained: continuing the due list' });
    // The due list and the open runs are in PostgreSQL: the new leader just applies the overdue
    // rule (fresh product-dates are not refetched; recorded occurrences cannot run again).
    void scheduler.onLeadershipGained().catch(() => undefined);
  }
}
