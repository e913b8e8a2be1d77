import { DomainError, NotAttemptedError } from '../common/domain-error';

/** The limiter is stopping (shutdown or drain): the job was never started, so nothing is half-done. */
export class LimiterShutdownError extends NotAttemptedError {
  readonly httpStatus = 503;
  constructor() {
    super('Partner call queue is shutting down; the job was not started');
  }
}

/** A job was given back to the queue after a 429 too many times in a row. */
export class LimiterGaveUpError extends DomainError {
  readonly httpStatus = 503;
  constructor(
    readonly key: string,
    readonly rateLimitedTimes: number,
  ) {
    super(`Gave up on ${key} after ${rateLimitedTimes} rate-limited attempts`);
  }
}
