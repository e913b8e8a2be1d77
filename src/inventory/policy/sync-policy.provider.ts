import { Inject, type Provider } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { buildSyncPolicy, type SyncPolicy } from './sync-policy';

export const SYNC_POLICY = Symbol('SYNC_POLICY');

/** Injects the SyncPolicy built once at boot from the configured crons and time zone. */
export const InjectSyncPolicy = (): ParameterDecorator => Inject(SYNC_POLICY);

export const syncPolicyProvider: Provider<SyncPolicy> = {
  provide: SYNC_POLICY,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) =>
    buildSyncPolicy(config.sync.cron, config.sync.timeZone, new Date()),
};
