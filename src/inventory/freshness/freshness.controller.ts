import { Controller, Get, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrorBody } from '../../common/api-error-body';
import { FreshnessMatrixDto } from './freshness-matrix.dto';
import { FreshnessQueryDto } from './freshness-query.dto';
import { FreshnessService } from './freshness.service';

@ApiTags('sync')
@Controller('api/v1/experience/sync')
export class FreshnessController {
  constructor(private readonly freshness: FreshnessService) {}

  @Get('freshness')
  @ApiOperation({
    summary: 'Freshness of the configured products × dates (today .. today+59), a page at a time',
    description:
      'Each cell is classified against the target age of its horizon, derived from the ' +
      'configured crons and listed in `bands` (defaults: today 15 min, +1..+6 4 h, +7..+29 ' +
      '24 h, +30..+59 7 days): fresh, due (older than one interval), ' +
      'stale (older than two), never synced, or failed (last attempt failed after the last ' +
      'success). Rows are compact parallel arrays. `products` holds one page of ' +
      'SYNC_PRODUCT_IDS (`offset`, `limit`: default 500, at most 1000; `page` says which and ' +
      'how many there are) or the one product asked for with `productId`; `counts` covers ' +
      'every configured product. Concurrent callers share one reading, answered again for up ' +
      'to 10 s (a finished run reads anew; after a changed product-date, 2 s at most); at ' +
      'scale at least 100 × the time the reading took, at most 60 s (generatedAt says when).',
  })
  @ApiOkResponse({ type: FreshnessMatrixDto })
  @ApiBadRequestResponse({
    type: ApiErrorBody,
    description: 'offset, limit or productId not a whole number in range',
  })
  @ApiNotFoundResponse({ type: ApiErrorBody, description: 'productId is not in SYNC_PRODUCT_IDS' })
  @ApiServiceUnavailableResponse({
    type: ApiErrorBody,
    description: 'Database unavailable and no matrix known yet (Retry-After says when to retry)',
  })
  async matrix(@Query() query: FreshnessQueryDto, @Res() res: FastifyReply): Promise<void> {
    const body = await this.freshness.answerJson(query);
    res.code(200).header('Content-Type', 'application/json; charset=utf-8').send(body);
  }
}
