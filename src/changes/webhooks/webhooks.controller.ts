import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiErrorBody } from '../../common/api-error-body';
import { AdminTokenGuard } from '../../inventory/control/admin-token.guard';
import {
  CreateWebhookDto,
  WebhookCreatedDto,
  WebhookEnabledDto,
  WebhookListDto,
  WebhookRotatedDto,
  WebhookTestQueuedDto,
} from './webhook.dto';
import { WebhooksService } from './webhooks.service';

const UNAUTHORIZED = {
  type: ApiErrorBody,
  description: 'Missing or wrong Authorization: Bearer <ADMIN_TOKEN>',
};
const TOO_MANY = {
  type: ApiErrorBody,
  description: 'Too many failed attempts from this client (see the control API)',
};
const NOT_FOUND = { type: ApiErrorBody, description: 'No subscription with this id' };

/** Webhook subscriptions, managed with the admin token. */
@ApiTags('webhooks')
@ApiBearerAuth()
@ApiUnauthorizedResponse(UNAUTHORIZED)
@ApiTooManyRequestsResponse(TOO_MANY)
@UseGuards(AdminTokenGuard)
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Subscribe a URL to change events (Standard Webhooks); the secret is shown once',
  })
  @ApiCreatedResponse({ type: WebhookCreatedDto })
  @ApiBadRequestResponse({
    type: ApiErrorBody,
    description: 'URL not http(s), resolving to a private address, or an unknown event type',
  })
  @ApiConflictResponse({ type: ApiErrorBody, description: 'Already 100 subscriptions' })
  create(@Body() dto: CreateWebhookDto): Promise<WebhookCreatedDto> {
    return this.webhooks.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'Subscriptions with their delivery state (no secrets)' })
  @ApiOkResponse({ type: WebhookListDto })
  async list(): Promise<WebhookListDto> {
    return { webhooks: await this.webhooks.list() };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription and its queued messages' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse(NOT_FOUND)
  async remove(@Param('id') id: string): Promise<void> {
    await this.webhooks.delete(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A new signing secret; the previous one keeps signing (both signatures sent) for 24 h',
  })
  @ApiOkResponse({ type: WebhookRotatedDto })
  @ApiNotFoundResponse(NOT_FOUND)
  rotate(@Param('id') id: string): Promise<WebhookRotatedDto> {
    return this.webhooks.rotate(id);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Enable a subscription disabled after persistent failure, resuming from its oldest undelivered event',
    description:
      'The messages given up on are queued again with a fresh WEBHOOK_RETRY_HOURS, then every ' +
      'event published while it was disabled (that it subscribes to), in cursor order; per ' +
      'product-date the order holds. Enabling an enabled subscription changes nothing (changed: false).',
  })
  @ApiOkResponse({ type: WebhookEnabledDto })
  @ApiNotFoundResponse(NOT_FOUND)
  enable(@Param('id') id: string): Promise<WebhookEnabledDto> {
    return this.webhooks.enable(id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a webhook.test message to the subscription' })
  @ApiAcceptedResponse({ type: WebhookTestQueuedDto })
  @ApiNotFoundResponse(NOT_FOUND)
  test(@Param('id') id: string): Promise<WebhookTestQueuedDto> {
    return this.webhooks.test(id);
  }
}
