import { Injectable } from '@nestjs/common';
import {
  FailedVerdict,
  KeyRejectedVerdict,
  RateLimitedVerdict,
  TransientVerdict,
} from '../core/rate-limiter/rate-limiter.errors';
import { RateLimiterService } from '../core/rate-limiter/rate-limiter.service';
import type { JobPriority } from '../core/rate-limiter/rate-limiter.types';
import { PartnerClient } from './partner-client';
import { PartnerError, PartnerRateLimitedError, PartnerUnauthorizedError } from './partner-errors';
import type { PartnerInventory } from './partner.types';

/** Tells the limiter what a partner failure means for the key (it knows nothing of the partner). */
export function verdictFor(err: unknown): unknown {
  if (!(err instanceof PartnerError)) return err;
  if (err instanceof PartnerRateLimitedError) return new RateLimitedVerdict(err, err.waitUntil());
  if (err instanceof PartnerUnauthorizedError) {
    return new KeyRejectedVerdict(err, err.status === 403 ? 403 : 401);
  }
  return err.retryable
    ? new TransientVerdict(err, err.outcome)
    : new FailedVerdict(err, err.outcome);
}

/**
 * The partner as the rest of the service sees it: every call budgeted through the limiter (which
 * picks the key), and concurrent callers for the same product-date share one call.
 */
@Injectable()
export class PartnerGateway {
  private readonly inFlight = new Map<string, Promise<PartnerInventory>>();

  constructor(
    private readonly limiter: RateLimiterService,
    private readonly client: PartnerClient,
  ) {}

  fetchInventory(
    productId: number,
    date: string,
    priority: JobPriority,
  ): Promise<PartnerInventory> {
    const id = `${productId}:${date}`;
    const joined = this.inFlight.get(id);
    if (joined) return joined;
    const call = this.limiter
      .schedule(
        (key) =>
          this.client.fetchInventory(productId, date, key.secret).catch((err: unknown) => {
            throw verdictFor(err);
          }),
        { priority },
      )
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, call);
    return call;
  }
}
