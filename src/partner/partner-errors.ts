import { DomainError } from '../common/domain-error';
import type { PartnerCallOutcome } from './partner.types';

/**
 * Base of every failure of a partner call. `outcome` is the metrics/sync-record label and
 * `retryable` says whether another attempt later may help (the key's breaker counts those). Messages never carry the API
 * key or a raw axios error (whose config.headers would hold it).
 */
export abstract class PartnerError extends DomainError {
  abstract readonly outcome: PartnerCallOutcome;
  abstract readonly retryable: boolean;
  /** Surfaced to an API client, a partner failure is the upstream's fault: 502 unless said otherwise. */
  readonly httpStatus: number = 502;
}

/** 429: the key's budget is spent (by us or anyone else using the key). */
export class PartnerRateLimitedError extends PartnerError {
  readonly outcome = 'rate_limited' as const;
  /** Not a failure of the product-date: the limiter holds the key and hands the job back. */
  readonly retryable = false;
  override readonly httpStatus = 503;

  constructor(
    /** From the body's rateLimitState.reset (epoch ms), when present and sane. */
    readonly resetAt: Date | null,
    /** The longest wait any header hinted (Retry-After, X-RateLimit-Reset), when present. */
    readonly retryAfterMs: number | null,
  ) {
    super(
      `Partner rate limit reached${resetAt ? `; budget refills at ${resetAt.toISOString()}` : ''}`,
    );
  }

  /** The instant the budget should be back: the latest of every hint, or null if none. */
  waitUntil(now: number = Date.now()): number | null {
    const hints = [
      this.resetAt?.getTime() ?? null,
      this.retryAfterMs !== null ? now + this.retryAfterMs : null,
    ].filter((v): v is number => v !== null);
    return hints.length > 0 ? Math.max(...hints) : null;
  }
}

/** 401/403: the key is wrong or revoked. Retrying cannot help; hammering makes it worse. */
export class PartnerUnauthorizedError extends PartnerError {
  readonly outcome = 'unauthorized' as const;
  readonly retryable = false;
  constructor(readonly status: number) {
    super(`Partner rejected the API key (HTTP ${status}); check the configured partner keys`);
  }
}

export class PartnerNotFoundError extends PartnerError {
  readonly outcome = 'not_found' as const;
  readonly retryable = false;
  override readonly httpStatus = 404;
  constructor(
    readonly productId: number,
    readonly date: string,
  ) {
    super(`Partner does not know product ${productId} (date ${date})`);
  }
}

/** Any other 4xx (400, 405, 422…): our request is wrong; repeating it is pointless. */
export class PartnerClientError extends PartnerError {
  readonly outcome = 'client_error' as const;
  readonly retryable = false;
  constructor(readonly status: number) {
    super(`Partner refused the request (HTTP ${status})`);
  }
}

export class PartnerServerError extends PartnerError {
  readonly outcome = 'server_error' as const;
  readonly retryable = true;
  constructor(readonly status: number) {
    super(`Partner server error (HTTP ${status})`);
  }
}

export class PartnerTimeoutError extends PartnerError {
  readonly outcome = 'timeout' as const;
  readonly retryable = true;
  override readonly httpStatus = 504;
  constructor(readonly timeoutMs: number) {
    super(`Partner did not answer within ${timeoutMs} ms`);
  }
}

export class PartnerNetworkError extends PartnerError {
  readonly outcome = 'network_error' as const;
  readonly retryable = true;
  /** Only the error code (ECONNREFUSED, ECONNRESET…): the raw error carries request headers. */
  constructor(readonly code: string) {
    super(`Partner unreachable (${code})`);
  }
}

/** The body is not JSON or does not match the contract; `field` names the first bad path. */
export class PartnerInvalidPayloadError extends PartnerError {
  readonly outcome = 'invalid_payload' as const;
  readonly retryable = false;
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`Partner sent an invalid payload at ${field || '(body)'}: ${reason}`);
  }
}
