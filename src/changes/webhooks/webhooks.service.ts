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
import { destinationProblem } from './destination';
import { newSecret } from './signing';
import type { CreateWebhookDto, WebhookCreatedDto, WebhookRotatedDto } from './webhook.dto';
import {
  TooManySubscriptionsError,
  WebhooksRepository,
  type SubscriptionStatus,
} from './webhooks.repository';

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** Managing subscriptions (the admin API): their rules, never their secrets in a log. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly repo: WebhooksRepository,
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
