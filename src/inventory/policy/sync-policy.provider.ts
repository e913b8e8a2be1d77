import { Inject, type Provider } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { planStretch } from '../schedule/capacity-plan';
import { PerProductCallsService } from '../schedule/per-product-calls.service';
import { buildSyncPolicy, type SyncPolicy } from './sync-policy';

export const SYNC_POLICY = Symbol('SYNC_POLICY');

/**
 * Injects the SyncPolicy built once at boot from the configured crons and time zone, for the
 * capacity plan's stretch (products, crons and keys are fixed for the process's life).
 */
export const InjectSyncPolicy = (): ParameterDecorator => Inject(SYNC_POLICY);

export const syncPolicyProvider: Provider<SyncPolicy> = {
  provide: SYNC_POLICY,
  inject: [APP_CONFIG, PerProductCallsService],
  useFactory: (config: AppConfig, calls: PerProductCallsService) => {
    const now = new Date();
    const { cron, timeZone, productIds } = config.sync;
    const stretch = planStretch({
      products: productIds.length,
      perProduct: calls.at(now),
      rateLimit: config.partner.rateLimit,
      rateWindowMs: config.partner.rateWindowMs,
      keys: config.partner.apiKeys.length,
    });
    return buildSyncPolicy(cron, timeZone, now, stretch);
  },
};
