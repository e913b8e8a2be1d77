import {
  applyDecorators,
  Body,
  Controller,
  Get,
  HttpCode,
  Ip,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiErrorBody } from '../../common/api-error-body';
import { SchedulerService } from '../schedule/scheduler.service';
import type { SyncStatus } from '../sync-status.types';
import { AdminTokenGuard } from './admin-token.guard';
import {
  ControlReasonDto,
  RunStartedDto,
  RunSyncDto,
  SyncControlStateDto,
} from './dto/run-sync.dto';
import { SyncControlService, type SyncControlChange } from './sync-control.service';
import { SyncStatusService } from './sync-status.service';

const UNAUTHORIZED = {
  type: ApiErrorBody,
  description:
    'Missing or wrong Authorization: Bearer <ADMIN_TOKEN>; each counts as a failed attempt of the client (its IP)',
};
const TOO_MANY = {
  type: ApiErrorBody,
  description:
    'The client (its IP) made ADMIN_FAILURE_LIMIT failed attempts (default 10) within ADMIN_FAILURE_WINDOW_MS (default 60 s): every attempt from it, the right token included, is refused until the oldest leaves the window',
  headers: {
    'Retry-After': {
      description: 'Seconds until the client may try again',
      schema: { type: 'integer' },
    },
  },
};

/** What the body parser refuses before the handler runs (src/app.factory.ts). */
const ApiBodyErrors = (): MethodDecorator =>
  applyDecorators(
    ApiResponse({ status: 413, type: ApiErrorBody, description: 'Request body over 100 KB' }),
    ApiResponse({
      status: 415,
      type: ApiErrorBody,
      description: 'A body with another Content-Type than application/json',
    }),
  );

/** Operator controls of the sync: status (open), pause, resume and manual runs (admin token). */
@ApiTags('sync')
@Controller('api/v1/experience/sync')
export class SyncControlController {
  constructor(
    private readonly control: SyncControlService,
    private readonly status: SyncStatusService,
    private readonly scheduler: SchedulerService,
  ) {}

  @Get('status')
  @ApiOperation({
    summary:
      "Sync state: paused?, windows, recent runs, partner budget, capacity, the value rule's plan, due list (with the products backing off), data age, accuracy estimate, learned rates, webhooks",
  })
  @ApiOkResponse({
    description:
      'The SyncStatus document (src/inventory/sync-status.types.ts). `freshness` lists the 20 ' +
      'products worst relative to their horizon targets (every product when there are no more) ' +
      'and `freshnessSummary` sums every product up per horizon (`asOf`: when the shared ' +
      'reading of the ages was made); per-product detail is ' +
      'GET /sync/freshness (paged, or ?productId=). While the database cannot ' +
      'answer it is still 200, with degraded: true and its database parts as of dataAsOf. ' +
      'readCache: the read cache mode; with REDIS_URL, shared.state is degraded (breaker, ' +
      'degradedSince, pendingInvalidations) while reads skip Redis. ' +
      '`accuracy`: the estimated share of reads served fresh (expectedFreshReads, 0..1, null ' +
      'before a product-date was synced twice), per horizon with its change rate per hour, the ' +
      'last 24 h (history) and the method (src/inventory/accuracy/accuracy.types.ts). ' +
      '`learned`: what the order of work learned, per horizon: productDates, changeRatePerHour ' +
      '(mean learned change rate of its product-dates), readsPerHour (read demand, every instance), ' +
      'syncsLastHour (successful syncs in the last hour) and ' +
      'expectedFreshReads (Σ reads × e^(−rate × age) ÷ Σ reads, null without reads); overall ' +
      "readsPerHour and expectedFreshReads, computedAt, and this instance's readCounter " +
      '(pending, flushedReads, droppedReads, lastFlushAt) (src/inventory/learning/learned-rates.types.ts). ' +
      '`plan`: the value rule (README, Sync engine): budgetShare (SYNC_BUDGET_SHARE), ' +
      'floorSeconds per horizon (hard maximum age), and the work as last ranked on this ' +
      'instance (only the leader ranks; elsewhere rankedAt is null): rankedAt, rankMs, ' +
      'forcedMinutes, lists (floor, never, value, due: ranked and left) and next (productId, ' +
      'date, why, value, deadline, changeRatePerHour, readsPerHour). ' +
      '`webhooks`: subscriptions enabled and disabled, failing (enabled, last attempt failed), ' +
      'pending messages, lagSeconds (oldest undelivered message of an enabled subscription), ' +
      'givenUp messages, and each disabled subscription (id, destination: the URL origin only, ' +
      'disabledReason, lastError, lastErrorAt); never a secret; null without the change feed ' +
      '(src/inventory/changes/webhooks-status.ts).',
  })
  getStatus(): Promise<SyncStatus> {
    return this.status.status();
  }

  @Post('pause')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Pause syncing on every instance: no new partner calls; calls in flight finish and are stored, due product-dates stay due',
  })
  @ApiOkResponse({ type: SyncControlStateDto })
  @ApiBadRequestResponse({
    type: ApiErrorBody,
    description: 'Body is not valid JSON, or reason is over 500 characters',
  })
  @ApiBodyErrors()
  @ApiUnauthorizedResponse(UNAUTHORIZED)
  @ApiTooManyRequestsResponse(TOO_MANY)
  pause(@Body() body: ControlReasonDto, @Ip() ip: string): Promise<SyncControlChange> {
    return this.control.pause(`api ${ip}`, body?.reason);
  }

  @Post('resume')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Resume syncing; the next window ticks plan their work again. Also clears a partner hold (after a 429 or 401), paused or not',
  })
  @ApiOkResponse({ type: SyncControlStateDto })
  @ApiBadRequestResponse({
    type: ApiErrorBody,
    description: 'Body is not valid JSON, or reason is over 500 characters',
  })
  @ApiBodyErrors()
  @ApiUnauthorizedResponse(UNAUTHORIZED)
  @ApiTooManyRequestsResponse(TOO_MANY)
  resume(@Body() body: ControlReasonDto, @Ip() ip: string): Promise<SyncControlChange> {
    return this.control.resume(`api ${ip}`, body?.reason);
  }

  @Post('run')
  @HttpCode(202)
  @UseGuards(AdminTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Run a window now (optionally for some products), on any instance: its product-dates are marked due at top urgency and the sync leader takes them first; see it in status',
  })
  @ApiAcceptedResponse({ type: RunStartedDto })
  @ApiBadRequestResponse({
    type: ApiErrorBody,
    description: 'Body is not valid JSON, an unknown window, or a product not in SYNC_PRODUCT_IDS',
  })
  @ApiBodyErrors()
  @ApiConflictResponse({ description: 'Sync is paused' })
  @ApiResponse({
    status: 503,
    type: ApiErrorBody,
    description:
      'The database is unavailable (with Retry-After), or the run was recorded but marking its ' +
      'product-dates due failed: the run is recorded as failed and the message says why; try again',
  })
  @ApiUnauthorizedResponse(UNAUTHORIZED)
  @ApiTooManyRequestsResponse(TOO_MANY)
  run(@Body() body: RunSyncDto): Promise<RunStartedDto> {
    return this.scheduler.runNow(body.window, body.productIds);
  }
}
