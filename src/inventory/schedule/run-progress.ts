/** How far a running window's run has come, for status, metrics and the stall warning. */
export interface RunProgress {
  runId: number;
  /** ISO time the run started. */
  startedAt: string;
  /** ISO time one of its product-dates last finished (the start until the first one does). */
  lastProgressAt: string;
  /** Product-dates of the run not finished yet. */
  pending: number;
  /** True when nothing finished for longer than SYNC_STALL_AFTER_MS. */
  stalled: boolean;
}

/**
 * A run is stalled when it still has work and none of its product-dates finished for longer than
 * `stallAfterMs`: partner calls end at their deadline and holds are capped, so a healthy run
 * keeps finishing product-dates (over capacity, a run queued behind more urgent work is flagged
 * too: its data is not moving either).
 */
export function isRunStalled(
  now: number,
  lastProgressAt: number,
  pending: number,
  stallAfterMs: number,
): boolean {
  return pending > 0 && now - lastProgressAt > stallAfterMs;
}
