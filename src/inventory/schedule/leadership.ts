import os from 'node:os';
import { DomainError } from '../../common/domain-error';
import type { LimiterState } from '../../core/rate-limiter/rate-limiter.types';

/**
 * Who runs the schedules. The cluster feature binds LEADERSHIP (from a global module) to its
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

/**
 * A manual run asked of an instance that does not lead: it could not spend partner budget, so it
 * is refused (503: behind a load balancer a retry may reach the leader) with the leader's name.
 */
export class NotSyncLeaderError extends DomainError {
  readonly httpStatus = 503;

  constructor(instanceId: string, leaderId: string | null) {
    super(
      `instance ${instanceId} does not run syncs; ` +
        (leaderId
          ? `the leader is ${leaderId}: send the run there (GET /api/v1/experience/sync/status names it)`
          : 'no instance leads right now, retry in a few seconds'),
    );
  }
}
