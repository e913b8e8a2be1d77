import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { FreshnessPageQuery } from './freshness.service';
import { FRESHNESS_DEFAULT_LIMIT, FRESHNESS_MAX_LIMIT } from './freshness.service';

const INT_MAX = 2_147_483_647;

/** The query of GET /sync/freshness: a page of the configured products, or one product. */
export class FreshnessQueryDto implements FreshnessPageQuery {
  @ApiPropertyOptional({
    example: 0,
    description: 'First product of the page, as an index into SYNC_PRODUCT_IDS (default 0)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'offset must be a whole number from 0' })
  @Min(0, { message: 'offset must be a whole number from 0' })
  @Max(INT_MAX, { message: `offset must be at most ${INT_MAX}` })
  offset?: number;

  @ApiPropertyOptional({
    example: FRESHNESS_DEFAULT_LIMIT,
    description: `Products per page (default ${FRESHNESS_DEFAULT_LIMIT}, at most ${FRESHNESS_MAX_LIMIT})`,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `limit must be a whole number from 1 to ${FRESHNESS_MAX_LIMIT}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${FRESHNESS_MAX_LIMIT}` })
  @Max(FRESHNESS_MAX_LIMIT, {
    message: `limit must be a whole number from 1 to ${FRESHNESS_MAX_LIMIT}`,
  })
  limit?: number;

  @ApiPropertyOptional({
    example: 14,
    description:
      'Only this product (one of SYNC_PRODUCT_IDS; 404 otherwise); offset and limit are ignored',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'productId must be a positive integer' })
  @Min(1, { message: 'productId must be a positive integer' })
  @Max(INT_MAX, { message: 'productId must be a positive integer' })
  productId?: number;
}
