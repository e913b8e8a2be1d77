/**
 * The product-level backoff, pure (the repository stores it in product_sync_backoffs). A
 * product-date's own backoff (dueRetryDelayMs) spaces its retries, but a product whose every date
 * fails (a partner that hangs on it answers one byte every 2 s, each call holding its place until
 * the deadline) still takes a turn with each of its dates in turn. So after a few failures in a
 * row across its dates, the product as a whole backs off: its dates are taken at most one at a
 * time, as a probe, once its wait is over, and behind the other products' dates, until one of its
 * dates succeeds.
 */

/** Consecutive failures (across a product's dates) that make a product back off. */
export const PRODUCT_BACKOFF_AFTER = 3;
const PROBE_WAIT_BASE_MS = 30_000;
const PROBE_WAIT_MAX_MS = 30 * 60_000;

/** A product's failures in a row, and its backoff once they reached PRODUCT_BACKOFF_AFTER. */
export interface ProductBackoffState {
  consecutiveFailures: number;
  /** When it began backing off; null below the threshold. */
  since: Date | null;
  /** Failed probes: attempts begun at or after `since`. */
  probeFailures: number;
  lastFailureAt: Date;
  /** When its next probe may be taken; null below the threshold. */
  nextProbeAt: Date | null;
  lastOutcome: string | null;
}

/** How long a backing-off product waits for its next probe: 30 s, 1 min, 2 min … at most 30 min. */
export function productProbeWaitMs(probeFailures: number): number {
  return Math.min(PROBE_WAIT_MAX_MS, PROBE_WAIT_BASE_MS * 2 ** Math.max(0, probeFailures));
}

/**
 * The state after a failed attempt of one of the product's dates, begun at `attemptAt`, recorded
 * at `now`. A failure of a call sent before the backoff began (its dates were in flight together,
 * a hung product's all time out one after the other) counts, but does not lengthen the wait: only
 * a failed probe does. A success of any date ends it all (the repository deletes the row).
 */
export function afterProductFailure(
  prev: ProductBackoffState | null,
  attemptAt: Date,
  now: Date,
  outcome: string,
): ProductBackoffState {
  const consecutiveFailures = (prev?.consecutiveFailures ?? 0) + 1;
  const base = { consecutiveFailures, lastFailureAt: now, lastOutcome: outcome };
  if (!prev?.since) {
    if (consecutiveFailures < PRODUCT_BACKOFF_AFTER) {
      return { ...base, since: null, probeFailures: 0, nextProbeAt: null };
    }
    return {
      ...base,
      since: now,
      probeFailures: 0,
      nextProbeAt: new Date(now.getTime() + productProbeWaitMs(0)),
    };
  }
  if (attemptAt < prev.since) {
    return {
      ...base,
      since: prev.since,
      probeFailures: prev.probeFailures,
      nextProbeAt: prev.nextProbeAt,
    };
  }
  const probeFailures = prev.probeFailures + 1;
  return {
    ...base,
    since: prev.since,
    probeFailures,
    nextProbeAt: new Date(now.getTime() + productProbeWaitMs(probeFailures)),
  };
}

/** Whether the product is backing off (past the threshold): its dates are probes, one at a time. */
export function isBackingOff(state: ProductBackoffState | null): boolean {
  return state?.since != null;
}
