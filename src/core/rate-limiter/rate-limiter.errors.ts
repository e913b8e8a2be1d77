import { NotAttemptedError } from '../../common/domain-error';

/**
 * What a job tells the limiter about a failed call, classified by class. The partner gateway
 * wraps its own errors in these (core knows nothing of the partner); `cause` is the original
 * error, which the limiter hands back to the caller where the caller records it. `outcome` is the
 * metrics label.
 */
export abstract class CallVerdict extends Error {
  constructor(
    override readonly cause: Error,
    readonly outcome: string,
  ) {
    super(cause.message);
    this.name = new.target.name;
  }
}

/** 429: the key's budget is spent (by us or anyone else using it). */
export class RateLimitedVerdict extends CallVerdict {
  constructor(
    cause: Error,
    /** Epoch ms the partner's hints say the budget is back (the latest of them), or null. */
    readonly waitUntil: number | null,
  ) {
    super(cause, 'rate_limited');
  }
}

/** 401/403: the partner refuses this key. */
export class KeyRejectedVerdict extends CallVerdict {
  constructor(
    cause: Error,
    readonly status: 401 | 403,
  ) {
    super(cause, 'unauthorized');
  }
}

/** A failure another attempt later may not have (5xx, timeout, network): the key's breaker counts it. */
export class TransientVerdict extends CallVerdict {}

/** Any other failure of the call (404, 400, an invalid payload): the caller's to record. */
export class FailedVerdict extends CallVerdict {}

/** The limiter is stopping (shutdown or drain): the job was never started, so nothing is half-done. */
export class LimiterShutdownError extends NotAttemptedError {
  readonly httpStatus = 503;
  constructor() {
    super('Partner call queue is shutting down; the job was not started');
  }
}

/**
 * The job's key could not take it after all (its call got a 429, or the key was rejected and
 * another key is usable, or no key is in rotation): nothing was spent on the job, it stays due
 * without a failure backoff, and the next turn of any usable key takes it.
 */
export class HandedBackError extends NotAttemptedError {
  readonly httpStatus = 503;
  constructor(
    readonly reason: 'rate_limited' | 'key_rejected' | 'no_usable_key' | 'breaker_open',
    readonly key: string | null,
  ) {
    super(`Partner call handed back (${reason}${key ? ` on ${key}` : ''}); it stays due`);
  }
}
