import {
  BadRequestException,
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { ChangeEventsRepository } from '../../inventory/changes/change-events.repository';
import { destinationProblem } from './destination';
import { newSecret } from './signing';
import type {
  CreateWebhookDto,
  WebhookCreatedDto,
  WebhookEnabledDto,
  WebhookRotatedDto,
} from './webhook.dto';
import {
  TooManySubscriptionsError,
  WebhooksRepository,
  type SubscriptionStatus,
} from './webhooks.repository';

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;
/** Events read and queued per statement when a re-enabled subscription catches up. */
const CATCH_UP_BATCH = 1000;
/** A catch-up over a week of events is a few hundred statements; the publisher waits meanwhile. */
const ENABLE_TIMEOUT_MS = 120_000;

/** Managing subscriptions (the admin API): their rules, never their secrets in a log. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly events: ChangeEventsRepository,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async create(dto: CreateWebhookDto): Promise<WebhookCreatedDto> {
    const problem = await destinationProblem(dto.url, this.config.webhooks.allowPrivateUrls);
    if (problem) throw new BadRequestException(problem);
    const eventTypes = [...new Set(dto.eventTypes ?? [])];
    const productIds = [...new Set(dto.productIds ?? [])];
    const id = `wh_${randomBytes(8).toString('hex')}`;
    const secret = newSecret();
    try {
      const createdAt = await this.repo.create({
        id,
        url: dto.url,
        eventTypes,
        productIds,
        secret,
      });
      this.logger.log({ msg: 'webhook subscription created', id, url: dto.url });
      return {
        id,
        url: dto.url,
        eventTypes,
        productIds,
        secret,
        createdAt: createdAt.toISOString(),
      };
    } catch (err) {
      if (err instanceof TooManySubscriptionsError) throw new ConflictException(err.message);
      throw err;
    }
  }

  async list(): Promise<SubscriptionStatus[]> {
    return this.repo.list();
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id))) throw this.notFound(id);
    this.logger.log({ msg: 'webhook subscription deleted', id });
  }

  async rotate(id: string): Promise<WebhookRotatedDto> {
    const secret = newSecret();
    const until = new Date(Date.now() + ROTATION_OVERLAP_MS);
    if (!(await this.repo.rotate(id, secret, until))) throw this.notFound(id);
    this.logger.log({ msg: 'webhook secret rotated', id });
    return { id, secret, previousSecretsExpireAt: until.toISOString() };
  }

  /**
   * Enables a subscription disabled after persistent failure, resuming from its oldest
   * undelivered event: the messages given up on are queued again, and the events published while
   * it was disabled are queued after them, in one transaction during which nothing is published
   * (none missed, none queued twice). Enabled already: nothing changes.
   */
  async enable(id: string): Promise<WebhookEnabledDto> {
    const result = await this.events.withPublishingHeld(async (tx, feed) => {
      const sub = await this.repo.lockForEnable(tx, id);
      if (!sub) throw this.notFound(id);
      if (sub.enabled) return null;
      // After the last event it was queued; none kept: the events written since it was created.
      const after =
        sub.lastQueued ?? (await feed.lastWrittenBefore(sub.createdAt)) ?? feed.prunedThrough;
      const requeued = await this.repo.enableInTransaction(tx, id);
      let backfilled = 0;
      for (let cursor = after; ;) {
        const events = await feed.eventsAfter(cursor, CATCH_UP_BATCH);
        backfilled += await this.repo.fanOutInTransaction(tx, events, id);
        if (events.length < CATCH_UP_BATCH) break;
        cursor = BigInt(events[events.length - 1].cursor);
      }
      return {
        requeued,
        backfilled,
        resumedAfter: after.toString(),
        // Events it never got were pruned (or, with nothing of it kept, may have been).
        eventsPruned:
          after < feed.prunedThrough || (sub.lastQueued === null && feed.prunedThrough > 0n),
      };
    }, ENABLE_TIMEOUT_MS);
    if (!result)
      return {
        id,
        enabled: true,
        changed: false,
        requeued: 0,
        backfilled: 0,
        resumedAfter: null,
        eventsPruned: false,
      };
    this.logger.log({ msg: 'webhook subscription enabled', id, ...result });
    return { id, enabled: true, changed: true, ...result };
  }

  async test(id: string): Promise<{ messageId: string }> {
    const messageId = `test_${randomBytes(8).toString('hex')}`;
    const body = JSON.stringify({
      type: 'webhook.test',
      timestamp: new Date().toISOString(),
      data: { subscriptionId: id },
    });
    if (!(await this.repo.queue(id, messageId, 'webhook.test', body))) throw this.notFound(id);
    return { messageId };
  }

  private notFound(id: string): NotFoundException {
    return new NotFoundException(`no webhook subscription ${JSON.stringify(id.slice(0, 64))}`);
  }
}
