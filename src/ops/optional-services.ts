import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { LimiterState } from '../core/rate-limiter.types';

/** What ops reads from the partner budget (RateLimiterService). */
export interface LimiterView {
  state(): LimiterState;
  /** Stops taking new jobs and waits (at most timeoutMs) for the ones in flight. */
  drain?(timeoutMs: number): Promise<unknown>;
}

/** What ops asks of a service that owns schedules or running work when the process stops. */
export interface Stoppable {
  stop?(): unknown;
  /** Optional: the scheduler says whether its schedules are registered and ticking. */
  isRunning?(): boolean;
}

/**
 * Finds providers of other features by class name, so that health, metrics and shutdown work
 * before (and without) those features: a missing service is simply skipped. Instances are
 * looked up once, after the application has been built.
 */
@Injectable()
export class OptionalServices {
  private readonly cache = new Map<string, unknown>();

  constructor(private readonly discovery: DiscoveryService) {}

  find<T>(className: string): T | undefined {
    if (this.cache.has(className)) return this.cache.get(className) as T | undefined;
    const wrapper = this.discovery
      .getProviders()
      .find((w) => w.metatype?.name === className && w.instance && w.isDependencyTreeStatic());
    const instance = wrapper?.instance as T | undefined;
    if (instance !== undefined) this.cache.set(className, instance);
    return instance;
  }

  limiter(): LimiterView | undefined {
    const limiter = this.find<LimiterView>('RateLimiterService');
    return typeof limiter?.state === 'function' ? limiter : undefined;
  }
}
