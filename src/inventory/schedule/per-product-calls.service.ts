import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { todayIn } from '../calendar';
import { callsPerProduct, type PerProductCalls } from './capacity-plan';

/**
 * The partner calls one product costs per day with the configured crons, counted over a week of
 * firings from today's date (in SYNC_TIMEZONE). Walking them takes 100–250 ms, so it is done once
 * a day; the policy's stretch (at boot) and status read the same count.
 */
@Injectable()
export class PerProductCallsService {
  private cached: { day: string; calls: PerProductCalls } | null = null;

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  at(now: Date = new Date()): PerProductCalls {
    const { cron, timeZone } = this.config.sync;
    const day = todayIn(timeZone, now);
    if (this.cached?.day !== day) {
      this.cached = { day, calls: callsPerProduct(cron, timeZone, new Date(`${day}T00:00:00Z`)) };
    }
    return this.cached.calls;
  }
}
