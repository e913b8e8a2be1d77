import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { FailedAttempts } from './failed-attempts';

/** Clients whose failures one instance remembers (each at most ADMIN_FAILURE_LIMIT timestamps). */
export const MAX_TRACKED_CLIENTS = 10_000;

/**
 * The instance's one count of failed admin token attempts per client. Nest builds a guard once per
 * module that uses it (the control API and the webhooks API each get one), so the count lives
 * here, a provider the inventory module exports: a client's failures on either API add up.
 */
@Injectable()
export class AdminFailures extends FailedAttempts {
  constructor(@InjectConfig() config: AppConfig) {
    super({
      limit: config.adminFailures.limit,
      windowMs: config.adminFailures.windowMs,
      maxClients: MAX_TRACKED_CLIENTS,
    });
  }
}
