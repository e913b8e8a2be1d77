import { Controller, Get, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrorBody } from '../../ops/openapi';
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
  @ApiOkResponse({ type: [SlotDto], description: 'Slots by start time; [] when none are stored' })
  @ApiResponse(NOT_MODIFIED)
  @ApiBadRequestResponse(BAD_REQUEST)
  @ApiNotFoundResponse(NOT_FOUND)
  async slots(
    @ProductIdParam() productId: number,
    @DateQuery() date: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    sendCachedRead(req, res, await this.reads.slots(productId, date));
  }

  @Get(':productId/dates')
  @ApiOperation({
    summary: 'Dates with seats left, today .. today + 2 months, with the lowest slot price',
  })
  @ApiParam(PRODUCT_ID_DOC)
  @ApiOkResponse({ type: DateInventoryDto })
  @ApiResponse(NOT_MODIFIED)
  @ApiBadRequestResponse(BAD_REQUEST)
  @ApiNotFoundResponse(NOT_FOUND)
  async dates(
    @ProductIdParam() productId: number,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    sendCachedRead(req, res, await this.reads.dates(productId));
  }
}
