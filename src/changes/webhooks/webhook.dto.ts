import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { CHANGE_EVENT_TYPES } from '../../inventory/changes/change-events.repository';

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://consumer.example.com/hooks/availability',
    description:
      'http(s) URL; its host must resolve to public addresses unless WEBHOOK_ALLOW_PRIVATE_URLS=true',
  })
  @IsString({ message: 'url must be a string' })
  @MaxLength(2048, { message: 'url must be at most 2048 characters' })
  url!: string;

  @ApiPropertyOptional({
    type: [String],
    enum: CHANGE_EVENT_TYPES,
    description: 'Event types to receive; default all',
  })
  @IsOptional()
  @IsArray({ message: 'eventTypes must be an array' })
  @ArrayMaxSize(CHANGE_EVENT_TYPES.length, { message: 'eventTypes lists a type twice' })
  @IsIn(CHANGE_EVENT_TYPES, {
    each: true,
    message: `eventTypes must hold only ${CHANGE_EVENT_TYPES.join(', ')}`,
  })
  eventTypes?: string[];

  @ApiPropertyOptional({
    type: [Number],
    example: [14],
    description: 'Products to receive; default all',
  })
  @IsOptional()
  @IsArray({ message: 'productIds must be an array of product ids' })
  @ArrayMaxSize(10_000, { message: 'productIds must hold at most 10000 ids' })
  @IsInt({ each: true, message: 'productIds must hold positive integers' })
  @Min(1, { each: true, message: 'productIds must hold positive integers' })
  @Max(2_147_483_647, { each: true, message: 'productIds must hold positive integers' })
  productIds?: number[];
}

export class WebhookStatusDto {
  @ApiProperty({ example: 'wh_3f9c2a61b0d84e7a' })
  id!: string;
  @ApiProperty()
  url!: string;
  @ApiProperty({ type: [String], description: '[] = all' })
  eventTypes!: string[];
  @ApiProperty({ type: [Number], description: '[] = all' })
  productIds!: number[];
  @ApiProperty({ description: 'False once deliveries failed for WEBHOOK_RETRY_HOURS' })
  enabled!: boolean;
  @ApiProperty({ type: String, nullable: true })
  disabledReason!: string | null;
  @ApiProperty()
  createdAt!: string;
  @ApiProperty()
  consecutiveFailures!: number;
  @ApiProperty({ type: String, nullable: true })
  lastError!: string | null;
  @ApiProperty({ type: String, nullable: true })
  lastErrorAt!: string | null;
  @ApiProperty({ type: String, nullable: true })
  lastSuccessAt!: string | null;
  @ApiProperty({ description: 'Messages waiting or being retried' })
  pending!: number;
  @ApiProperty({ description: 'Messages given up on' })
  failed!: number;
  @ApiProperty({ description: 'Age in seconds of the oldest undelivered message (0: none)' })
  lagSeconds!: number;
}

export class WebhookListDto {
  @ApiProperty({ type: [WebhookStatusDto] })
  webhooks!: WebhookStatusDto[];
}

export class WebhookCreatedDto {
  @ApiProperty({ example: 'wh_3f9c2a61b0d84e7a' })
  id!: string;
  @ApiProperty()
  url!: string;
  @ApiProperty({ type: [String] })
  eventTypes!: string[];
  @ApiProperty({ type: [Number] })
  productIds!: number[];
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret: shown only in this answer (and on rotation)',
  })
  secret!: string;
  @ApiProperty()
  createdAt!: string;
}

export class WebhookRotatedDto {
  @ApiProperty()
  id!: string;
  @ApiProperty({ description: 'The new signing secret, shown once' })
  secret!: string;
  @ApiProperty({ description: 'Until then messages are signed with the previous secret(s) too' })
  previousSecretsExpireAt!: string;
}

export class WebhookTestQueuedDto {
  @ApiProperty({ example: 'test_5b1e0c7d9a2f4e6b', description: 'The webhook-id it is sent with' })
  messageId!: string;
}

export class WebhookEnabledDto {
  @ApiProperty()
  id!: string;
  @ApiProperty({ enum: [true] })
  enabled!: true;
  @ApiProperty({ description: 'False: it was enabled already, nothing changed' })
  changed!: boolean;
  @ApiProperty({ description: 'Messages given up on, queued again (its oldest undelivered first)' })
  requeued!: number;
  @ApiProperty({ description: 'Events published while it was disabled, queued after them' })
  backfilled!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '4096',
    description:
      'The feed cursor the catch-up started after: the newest event it had been queued (null when nothing changed)',
  })
  resumedAfter!: string | null;
  @ApiProperty({
    description:
      'True when events it missed were already pruned (CHANGE_FEED_RETENTION_DAYS): resync from the slots API',
  })
  eventsPruned!: boolean;
}
