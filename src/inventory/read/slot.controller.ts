import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrorBody } from '../../ops/openapi';
import { DateInventoryDto, SlotDto } from './dto/slot.dto';
import { ProductParams, SlotsQuery } from './dto/read-request.dto';
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
  @ApiOkResponse({ type: [SlotDto], description: 'Slots by start time; [] when none are stored' })
  @ApiResponse(NOT_MODIFIED)
  @ApiBadRequestResponse(BAD_REQUEST)
  @ApiNotFoundResponse(NOT_FOUND)
  async slots(
    @Param() params: ProductParams,
    @Query() query: SlotsQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    sendCachedRead(req, res, await this.reads.slots(Number(params.productId), query.date));
  }

  @Get(':productId/dates')
  @ApiOperation({
    summary: 'Dates with seats left, today .. today + 2 months, with the lowest slot price',
  })
  @ApiOkResponse({ type: DateInventoryDto })
  @ApiResponse(NOT_MODIFIED)
  @ApiBadRequestResponse(BAD_REQUEST)
  @ApiNotFoundResponse(NOT_FOUND)
  async dates(
    @Param() params: ProductParams,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    sendCachedRead(req, res, await this.reads.dates(Number(params.productId)));
  }
}
