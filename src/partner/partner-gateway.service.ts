import { Injectable } from '@nestjs/common';
import { RateLimiterService } from '../core/rate-limiter.service';
import type { JobPriority } from '../core/rate-limiter.types';
import { PartnerClient } from './partner-client';
import type { PartnerInventory } from './partner.types';

/** The partner as the rest of the service sees it: every call budgeted, deduplicated, retried. */
@Injectable()
export class PartnerGateway {
  constructor(
    private readonly limiter: RateLimiterService,
    private readonly client: PartnerClient,
  ) {}

  /** One product-date through the budget queue; concurrent callers for the same pair share one call. */
  fetchInventory(
    productId: number,
    date: string,
    priority: JobPriority,
  ): Promise<PartnerInventory> {
    return this.limiter.schedule({
      key: `${productId}:${date}`,
      priority,
      run: () => this.client.fetchInventory(productId, date),
    });
  }
}
