import type { AppConfig } from '../../config/app-config';
import { jitterMarginMs, keyConcurrency, minTimeMs } from './rate-limiter.policy';

/** Tuning of the limiter; everything not given comes from AppConfig or the defaults below. */
export interface RateLimiterOptions {
  /** Calls per window, per key. */
  limit: number;
  windowMs: number;
  /**
   * Calls in flight at once, per key: by default as many as can overlap when each lasts its whole
   * deadline (keyConcurrency), so calls that hang never hold back a send the pace allows.
   */
  maxConcurrency: number;
  /** Added to the window the pace is computed for (see jitterMarginMs). */
  marginMs: number;
  /** Consecutive transient failures (5xx, timeout, network) that open a key's breaker. */
  breakerThreshold: number;
  /** How long a key's breaker stays open before one probe call. */
  breakerHalfOpenAfterMs: number;
  /** How long a key the partner refused (401/403) stays out of rotation before a probe call. */
  rejectedProbeAfterMs: number;
  shutdownTimeoutMs: number;
}

/** Lets tests and benchmarks tune the limiter (short windows, fast breaker) without new env vars. */
export const RATE_LIMITER_OPTIONS = Symbol('RATE_LIMITER_OPTIONS');

/**
 * Defaults for the real partner (30 calls/min per key, ≈0.5 calls/s): 5 consecutive failures are
 * ~10 s of a dead partner at that rate; a 30 s cool-down costs at most one probe call per 30 s.
 */
export function rateLimiterOptions(
  config: AppConfig,
  overrides: Partial<RateLimiterOptions> = {},
): RateLimiterOptions {
  const windowMs = overrides.windowMs ?? config.partner.rateWindowMs;
  const limit = overrides.limit ?? config.partner.rateLimit;
  const marginMs = overrides.marginMs ?? jitterMarginMs(windowMs);
  return {
    limit,
    windowMs,
    maxConcurrency: keyConcurrency(
      config.partner.timeoutMs,
      minTimeMs(windowMs, marginMs, limit),
      config.partner.maxConcurrency,
    ),
    marginMs,
    breakerThreshold: 5,
    breakerHalfOpenAfterMs: 30_000,
    rejectedProbeAfterMs: Math.max(windowMs, 60_000),
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ...overrides,
  };
}
