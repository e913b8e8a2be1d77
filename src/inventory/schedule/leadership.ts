import os from 'node:os';
import type { LimiterState } from '../../core/rate-limiter/rate-limiter.types';

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

/** The leadership the cluster bound, else this instance alone (every service of it agrees). */
export function boundOrSoleLeadership(instanceId?: string, bound?: Leadership): Leadership {
  return bound ?? new SoleInstanceLeadership(instanceId);
}
