import { BadRequestException, Controller, Get, GoneException, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiGoneResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrorBody } from '../../common/api-error-body';
import {
  ChangeEventsRepository,
  CursorExpiredError,
  type ChangePage,
} from '../../inventory/changes/change-events.repository';
import { ChangePageDto } from './change-feed.dto';
import { MAX_LIMIT, parseChangeFeedQuery } from './change-feed-query';

/**
 * The pull feed of changes. Open like the slots API: it tells what that API already shows
 * to anyone (which product-dates changed, and how), and nothing else.
 */
@ApiTags('changes')
@Controller('api/v1/changes')
export class ChangeFeedController {
  constructor(private readonly events: ChangeEventsRepository) {}

  @Get()
  @ApiOperation({
    summary: 'Changes after a cursor, oldest first',
    description:
      "Every committed change of a product-date (availability.changed) and every product removed from the sync (product.removed). Resume with `after` = the last page's nextCursor. Events are kept CHANGE_FEED_RETENTION_DAYS (7) days.",
  })
  @ApiQuery({
    name: 'after',
    required: false,
    description:
      'The cursor to read after (nextCursor of the previous page); absent: the oldest event kept',
    schema: { type: 'string', pattern: '^\\d{1,19}$', example: '1042' },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'Events per page',
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100 },
  })
  @ApiQuery({
    name: 'productId',
    required: false,
    description: "Only this product's events (the cursor still moves past the others)",
    schema: { type: 'integer', minimum: 1, example: 14 },
  })
  @ApiOkResponse({ type: ChangePageDto })
  @ApiBadRequestResponse({
    type: ApiErrorBody,
    description: 'A malformed after, limit or productId',
  })
  @ApiGoneResponse({
    type: ApiErrorBody,
    description:
      'The cursor is older than the retention: events after it were pruned. Resync from the slots API, then resume from the head.',
  })
  async list(@Query() raw: Record<string, unknown>): Promise<ChangePage> {
    const parsed = parseChangeFeedQuery(raw);
    if ('problem' in parsed) throw new BadRequestException(parsed.problem);
    const { after, limit, productId } = parsed.query;
    try {
      return await this.events.page(after, limit, productId);
    } catch (err) {
      if (err instanceof CursorExpiredError) throw new GoneException(err.message);
      throw err;
    }
  }
}
