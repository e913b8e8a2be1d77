import { Injectable, OnModuleInit } from '@nestjs/common';
import { RateLimiterService } from '../core/rate-limiter.service';
import { MetricsService } from './metrics.service';

/** Counts every partner call the budget reports (core does not know about metrics). */
@Injectable()
export class PartnerCallMetrics implements OnModuleInit {
  constructor(
    private readonly limiter: RateLimiterService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.limiter.observe((outcome, seconds) => this.metrics.recordPartnerCall(outcome, seconds));
  }
}
