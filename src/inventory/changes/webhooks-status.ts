import { Inject } from '@nestjs/common';

/** A subscription disabled after persistent failure, as status shows it (no secret, no path). */
export interface DisabledWebhook {
  id: string;
  /** The URL's scheme, host and port only: its path or query may carry the receiver's token. */
  destination: string;
  disabledReason: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** The webhook subscriptions summed up for GET /sync/status. */
export interface WebhooksStatus {
  subscriptions: { enabled: number; disabled: number };
  /** Enabled subscriptions whose last attempt failed (being retried). */
  failing: number;
  /** Messages of enabled subscriptions waiting or being retried. */
  pending: number;
  /** Age in seconds of the oldest undelivered message of an enabled subscription; 0: none waits. */
  lagSeconds: number;
  /** Messages given up on (kept CHANGE_FEED_RETENTION_DAYS), of every subscription. */
  givenUp: number;
  /** Every disabled subscription, the most recently failed first. */
  disabled: DisabledWebhook[];
}

/**
 * The webhooks' state as the sync status shows it: a port the inventory owns, so no inventory
 * file imports the change feed. The changes feature binds WEBHOOKS_STATUS; without a provider
 * status shows `webhooks: null`.
 */
export interface WebhooksStatusSource {
  /** Read from the database; throws like any query when it cannot answer. */
  webhooksStatus(): Promise<WebhooksStatus>;
}

export const WEBHOOKS_STATUS = Symbol('WEBHOOKS_STATUS');

/** Injects the bound WebhooksStatusSource (optional: undefined without the changes feature). */
export const InjectWebhooksStatus = (): ParameterDecorator => Inject(WEBHOOKS_STATUS);
