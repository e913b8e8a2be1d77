import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { skip, type Subscription } from 'rxjs';
import { RateLimiterService } from '../core/rate-limiter/rate-limiter.service';
import type { LimiterState } from '../core/rate-limiter/rate-limiter.types';
import type { Prisma } from '../generated/prisma/client';
import type { Leadership, LeaseTerm } from '../inventory/schedule/leadership';
import { ClusterNotifications } from './cluster-notifications.service';
import { LeaderLeaseService } from './leader-lease.service';

/**
 * The lease seen through the sync engine's Leadership port (bound to LEADERSHIP): the scheduler
 * runs windows only while isLeader(), and status reports currentLeader() from the lease row.
 */
@Injectable()
export class ClusterLeadership
  implements Leadership, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(ClusterLeadership.name);
  private readonly listeners: Array<() => void> = [];
  private subscription: Subscription | null = null;
  private booted = false;
  private lastNow = 0;

  constructor(private readonly lease: LeaderLeaseService) {}

  onModuleInit(): void {
    // skip(1): the leadership held at boot is the scheduler's own boot rule.
    this.subscription = this.lease.leadership$.pipe(skip(1)).subscribe((change) => {
      if (!change.leader || !this.booted || !this.lease.isLeader()) return;
      this.logger.log({ msg: 'leadership gained: continuing the due list' });
      for (const listener of this.listeners) listener();
    });
  }

  onApplicationBootstrap(): void {
    this.booted = true;
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  onLeadershipGained(listener: () => void): void {
    this.listeners.push(listener);
  }

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

  now(): Date {
    this.lastNow = Math.max(this.lastNow, this.lease.dbNow());
    return new Date(this.lastNow);
  }

  leaseTerm(): LeaseTerm {
    return { holderId: this.lease.instanceId, fence: this.lease.currentFence() };
  }

  async holdsLeaseTerm(tx: Prisma.TransactionClient, term: LeaseTerm): Promise<boolean> {
    if (term.fence === null || term.holderId !== this.lease.instanceId) return false;
    return this.lease.holdsTermInTransaction(tx, term.fence);
  }
}

/**
 * Wires the lease into the partner budget: every partner call passes the lease's fenced guard,
 * the limiter's state is published with each heartbeat, and a released lease is retried at once.
 */
@Injectable()
export class ClusterCoordinator implements OnModuleInit, OnModuleDestroy {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly lease: LeaderLeaseService,
    private readonly notifications: ClusterNotifications,
    private readonly limiter: RateLimiterService,
  ) {}

  onModuleInit(): void {
    this.limiter.addStartGuard((key) => this.lease.beforePartnerCall(key.fingerprint));
    this.lease.setStateProvider(() => this.limiter.state());
    this.subscriptions.push(
      this.notifications.messages$.subscribe((m) => {
        if (m.type === 'lease-released') this.lease.attemptSoon();
      }),
    );
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }
}
