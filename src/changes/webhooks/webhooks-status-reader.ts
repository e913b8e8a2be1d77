import { Injectable } from '@nestjs/common';
import type { WebhooksStatus, WebhooksStatusSource } from '../../inventory/changes/webhooks-status';
import { WebhooksRepository } from './webhooks.repository';

/** The URL without what may be secret: its user, path and query (a receiver's token is often there). */
export function destinationOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unreadable URL)';
  }
}

/** Implements the inventory's WebhooksStatusSource port (GET /sync/status' `webhooks`). */
@Injectable()
export class WebhooksStatusReader implements WebhooksStatusSource {
  constructor(private readonly repo: WebhooksRepository) {}

  async webhooksStatus(): Promise<WebhooksStatus> {
    const s = await this.repo.statusSummary();
    return {
      subscriptions: { enabled: s.enabled, disabled: s.disabled },
      failing: s.failing,
      pending: s.pending,
      lagSeconds: Math.round(s.lagSeconds),
      givenUp: s.givenUp,
      disabled: s.disabledList.map((w) => ({
        id: w.id,
        destination: destinationOf(w.url),
        disabledReason: w.disabledReason,
        lastError: w.lastError,
        lastErrorAt: w.lastErrorAt?.toISOString() ?? null,
      })),
    };
  }
}
