import { Controller, Get, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrorBody } from '../../common/api-error-body';
import { DateInventoryDto, SlotDto } from './dto/slot.dto';
import { DATE_DOC, DateQuery, PRODUCT_ID_DOC, ProductIdParam } from './read-params';
import { sendCachedRead } from './send-cached-read';
import { SlotReadService } from './slot-read.service';

const NOT_MODIFIED = {
  status: 304,
  description: 'Not modified: If-None-Match names the current ETag (no body)',
};
const BAD_REQUEST = { type: ApiErrorBody, description: 'Malformed productId or date' };
const NOT_FOUND = { type: ApiErrorBody, description: 'Product not kept in sync by this service' };
const UNAVAILABLE = {
  type: ApiErrorBody,
  description:
    'The database cannot answer and no earlier answer is known: message "database unavailable"',
  headers: {
    'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
  },
};
/** Sent only on a stale copy (stale-if-error), so clients can tell it from a fresh answer. */
const STALE_HEADERS = {
  Age: {
    description: 'Stale copies only: seconds since the answer was read from the database',
    schema: { type: 'integer' },
  },
  Warning: {
    description:
      'Stale copies only: 110 - "Response is Stale" (the database could not answer; this is the last good answer)',
    schema: { type: 'string' },
  },
};

/** Slots and dates of a product, served from the database through the read cache. */
@ApiTags('experience')
@Controller('api/v1/experience')
export class SlotController {
  constructor(private readonly reads: SlotReadService) {}

  // Two paths, one answer: the seed's /{productId}?date= and the assignment's /{productId}/slots?date=.
  @Get([':productId', ':productId/slots'])
  @ApiOperation({ summary: 'Slots of a product on a date (also at /{productId}?date=…)' })
  @ApiParam(PRODUCT_ID_DOC)
  @ApiQuery(DATE_DOC)
  @ApiOkResponse({
    type: [SlotDto],
    description: 'Slots by start time; [] when none are stored',
    headers: STALE_HEADERS,
  })
  @ApiResponse(NOT_MODIFIED)
  @ApiBadRequestResponse(BAD_REQUEST)
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiServiceUnavailableResponse(UNAVAILABLE)
  async slots(
    @ProductIdParam() productId: number,
    @DateQuery() date: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    sendCachedRead(req, res, await this.reads.slots(productId, date));
  }

  @Get(':productId/dates')
  @ApiOperation({
    summary: 'Dates with seats left, today .. today + 59 days, with the lowest slot price',
    description:
      'The 60 dates the sync keeps, in SYNC_TIMEZONE. The query reaches two calendar months, but nothing past today + 59 is ever stored.',
  })
  @ApiParam(PRODUCT_ID_DOC)
  @ApiOkResponse({ type: DateInventoryDto, headers: STALE_HEADERS })
  @ApiResponse(NOT_MODIFIED)
  @ApiBadRequestResponse(BAD_REQUEST)
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiServiceUnavailableResponse(UNAVAILABLE)
  async dates(
    @ProductIdParam() productId: number,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    sendCachedRead(req, res, await this.reads.dates(productId));
  }
}
