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

/** Why and until when the whole queue is held (GET /api/v1/experience/sync/status). */
export interface LimiterHold {
  /** rate_limited: a 429 (its hints, capped); unauthorized: a 401/403 on the key. */
  reason: 'rate_limited' | 'unauthorized';
  /** ISO time the hold began (or was last extended). */
  since: string;
  /** ISO time the queue starts again. */
  until: string;
  /** ISO time the partner's hints asked for (plus the margin); null without a hint. */
  hintedUntil: string | null;
  /** True when the hint was more than 2 windows ahead and the hold was cut to 2 windows. */
  capped: boolean;
}

/** Extra detail RateLimiterService adds to LimiterState (optional so fakes need not fill it). */
export interface LimiterStateDetail extends LimiterState {
  /** Starts allowed per window right now: the limit, lowered after a 429 caused by a foreign consumer. */
  effectiveLimit?: number;
  /** ISO time of the breaker's next probe while it is open, else null. */
  breakerRetryAt?: string | null;
  /** The current hold, or null. */
  hold?: LimiterHold | null;
}
