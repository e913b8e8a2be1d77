import { Inject, type FactoryProvider } from '@nestjs/common';
import os from 'node:os';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import type { LimiterState } from '../../core/rate-limiter/rate-limiter.types';
import type { Prisma } from '../../generated/prisma/client';

/**
 * The lease term a fetch began under. Its store commits only while this instance still holds
 * that term, so a leader that was paused or cut off past its lease cannot store a late answer.
 */
export interface LeaseTerm {
  readonly holderId: string;
  /** Null: this instance held no term when the fetch began (its store is refused). */
  readonly fence: bigint | null;
}

/**
 * Who runs the schedules: a port the inventory owns. The cluster feature binds LEADERSHIP to its
 * PostgreSQL lease; without a provider this instance is always the leader (single instance).
 */
export interface Leadership {
  /** This instance's id, as recorded in sync_runs.instance_id. */
  instanceId(): string;
  /** True when this instance may run schedules and spend partner budget now. */
  isLeader(): boolean;
  /** The current leader cluster-wide, or null when unknown (no lease in use). */
  currentLeader(): { id: string; since: string } | null;
  /** Queue, budget and breaker as the leader published them (cluster only; null: unknown). */
  leaderLimiterState?(): LimiterState | null;
  /**
   * Calls `listener` each time this instance becomes the leader after boot (the leadership held
   * at boot is the scheduler's own boot rule). The scheduler registers here, so the cluster
   * feature never reaches into the inventory.
   */
  onLeadershipGained?(listener: () => void): void;
  /**
   * Now on the clock every instance shares (the database's, as measured at the last lease
   * statement), never going back. A fetch's start is taken on it, so the order of two instances'
   * fetches does not depend on how far apart their own clocks are.
   */
  now?(): Date;
  /**
   * The term this instance is in, captured when a fetch begins. Absent without a lease (the single
   * instance): its stores are then only ordered by the time their fetch began.
   */
  leaseTerm?(): LeaseTerm;
  /**
   * Run inside the store's transaction, as its last statement: true while the lease row still
   * names this instance in `term`. The row stays locked (FOR SHARE) until the transaction ends,
   * so a takeover cannot commit between the check and the store's commit.
   */
  holdsLeaseTerm?(tx: Prisma.TransactionClient, term: LeaseTerm): Promise<boolean>;
}

export const LEADERSHIP = Symbol('LEADERSHIP');

/** The single-instance default: always the leader, no lease (status shows leader: null). */
export class SoleInstanceLeadership implements Leadership {
  private readonly id: string;

  constructor(instanceId?: string) {
    this.id = instanceId ?? `${os.hostname()}-${process.pid}`;
  }

  instanceId(): string {
    return this.id;
  }

  isLeader(): boolean {
    return true;
  }

  currentLeader(): null {
    return null;
  }
}

/** The leadership the inventory acts on (see inventoryLeadershipProvider). */
export const INVENTORY_LEADERSHIP = Symbol('INVENTORY_LEADERSHIP');

/**
 * Resolved once for the whole inventory: the leadership the cluster bound to LEADERSHIP, else
 * this instance alone, so every service of it agrees on who leads.
 */
export const inventoryLeadershipProvider: FactoryProvider<Leadership> = {
  provide: INVENTORY_LEADERSHIP,
  inject: [APP_CONFIG, { token: LEADERSHIP, optional: true }],
  useFactory: (config: AppConfig, bound?: Leadership) =>
    bound ?? new SoleInstanceLeadership(config.cluster.instanceId),
};

/** Injects the inventory's resolved Leadership. */
export const InjectLeadership = (): ParameterDecorator => Inject(INVENTORY_LEADERSHIP);
