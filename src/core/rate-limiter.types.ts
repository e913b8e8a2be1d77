/** Which work goes first when the partner budget is short: today > next 7 days > the rest. */
export type JobPriority = 'today' | 'week' | 'later';

export const JOB_PRIORITIES: readonly JobPriority[] = ['today', 'week', 'later'];

/** One unit of work that spends partner budget. */
export interface LimiterJob<T> {
  /** Dedupe key: a job whose key is already queued or in flight is not queued again. */
  key: string;
  priority: JobPriority;
  /** The partner call itself; called once per attempt, each attempt taking one unit of budget. */
  run: () => Promise<T>;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A snapshot of the limiter for status, metrics and the operator's page. */
export interface LimiterState {
  limit: number;
  windowMs: number;
  /** Calls started within the last windowMs. */
  spentInWindow: number;
  queued: Record<JobPriority, number>;
  running: number;
  /** ISO time until which the whole queue is held after a 429, or null. */
  pausedUntil: string | null;
  breaker: BreakerState;
}

/** Extra detail RateLimiterService adds to LimiterState (optional so fakes need not fill it). */
export interface LimiterStateDetail extends LimiterState {
  /** Starts allowed per window right now: the limit, lowered after a 429 caused by a foreign consumer. */
  effectiveLimit?: number;
  /** ISO time of the breaker's next probe while it is open, else null. */
  breakerRetryAt?: string | null;
}
