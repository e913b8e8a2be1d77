/** How often the lease is renewed, re-validated and how early a leader stops trusting it. */
export interface LeaseTiming {
  leaseMs: number;
  /** The leader renews (and followers retry) this often: three renewals fit in one lease. */
  renewEveryMs: number;
  /**
   * A leader stops calling itself leader this long before the lease expires by its own clock, so
   * its last partner call happens before any follower may take over (the follower waits for the
   * database to see the lease expired).
   */
  safetyMarginMs: number;
  /** assertLeader() asks the database again when its last confirmation is older than this. */
  revalidateEveryMs: number;
}

export function leaseTiming(leaseMs: number): LeaseTiming {
  return {
    leaseMs,
    renewEveryMs: Math.max(100, Math.floor(leaseMs / 3)),
    safetyMarginMs: Math.min(1000, Math.floor(leaseMs / 10)),
    revalidateEveryMs: Math.min(1000, Math.floor(leaseMs / 3)),
  };
}

/**
 * When a follower should try again: right after the current lease expires (so takeover happens
 * within the lease time of the leader's last renewal), but at least every renewEveryMs.
 */
export function nextAttemptDelayMs(timing: LeaseTiming, remainingMs: number | null): number {
  if (remainingMs === null) return 0;
  const untilExpiry = Math.max(0, remainingMs) + 20;
  return Math.min(timing.renewEveryMs, untilExpiry);
}
