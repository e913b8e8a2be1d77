import { Controller, Get } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrorBody } from '../../common/api-error-body';
import { FreshnessMatrixDto } from './freshness-matrix.dto';
import { FreshnessService, type FreshnessAnswer } from './freshness.service';

@ApiTags('sync')
@Controller('api/v1/experience/sync')
export class FreshnessController {
  constructor(private readonly freshness: FreshnessService) {}

  @Get('freshness')
  @ApiOperation({
    summary: 'Freshness of every configured product × date (today .. today+59)',
    description:
      'Each cell is classified against the target age of its horizon, derived from the ' +
      'configured crons and listed in `bands` (defaults: today 15 min, +1..+6 4 h, +7..+29 ' +
      '24 h, +30..+59 7 days): fresh, due (older than one interval), ' +
      'stale (older than two), never synced, or failed (last attempt failed after the last ' +
      'success). Rows are compact parallel arrays so 450 products stay small.',
  })
  @ApiOkResponse({ type: FreshnessMatrixDto })
  @ApiServiceUnavailableResponse({
    type: ApiErrorBody,
    description: 'Database unavailable and no matrix known yet (Retry-After says when to retry)',
  })
  matrix(): Promise<FreshnessAnswer> {
    return this.freshness.answer();
  }
}
