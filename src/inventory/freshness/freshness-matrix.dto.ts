import { ApiProperty } from '@nestjs/swagger';
import type {
  FreshnessCellError,
  FreshnessMatrix,
  FreshnessPage,
  ProductFreshnessRow,
} from './freshness-matrix';
import { HORIZON_NAMES, type HorizonName } from '../policy/sync-policy';
import { FRESHNESS_STATES, type FreshnessBand, type FreshnessState } from './freshness';

// OpenAPI descriptions of the freshness matrix; the interfaces in freshness-matrix.ts are the contract.

class FreshnessBandDto implements FreshnessBand {
  @ApiProperty({
    enum: HORIZON_NAMES,
    example: 'week',
    description: 'The SyncPolicy horizon these dates belong to',
  })
  horizon!: HorizonName;
  @ApiProperty({ example: 1, description: 'First day offset from today in this band' })
  fromDay!: number;
  @ApiProperty({ example: 6, description: 'Last day offset from today in this band' })
  toDay!: number;
  @ApiProperty({
    example: 14400,
    description:
      'Target age of these dates (seconds): the interval of the most frequent window covering them',
  })
  intervalSeconds!: number;
}

class FreshnessCellErrorDto implements FreshnessCellError {
  @ApiProperty({ example: 2, description: 'Index into `dates`' })
  day!: number;
  @ApiProperty({ example: 'partner answered 503' })
  message!: string;
  @ApiProperty({ type: Number, nullable: true, example: 30 })
  attemptAgeSeconds!: number | null;
}

class ProductFreshnessRowDto implements ProductFreshnessRow {
  @ApiProperty({ example: 14 })
  productId!: number;
  @ApiProperty({
    example: 'fdsnx' + 'n'.repeat(55),
    description:
      'One letter per date (same order as `dates`): f fresh, d due (older than one interval), ' +
      's stale (older than two), n never synced, x last attempt failed after the last success',
  })
  states!: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'integer', nullable: true },
    description: 'Seconds since the last successful sync per date (null: never)',
  })
  ageSeconds!: (number | null)[];
  @ApiProperty({
    type: 'array',
    items: { type: 'integer', nullable: true },
    description: 'Slots stored at the last successful sync per date (null: never)',
  })
  slots!: (number | null)[];
  @ApiProperty({
    type: [FreshnessCellErrorDto],
    description: 'Last errors, only where there is one',
  })
  errors!: FreshnessCellError[];
}

class FreshnessCountsDto implements Record<FreshnessState, number> {
  @ApiProperty() fresh!: number;
  @ApiProperty() due!: number;
  @ApiProperty() stale!: number;
  @ApiProperty() never!: number;
  @ApiProperty() failed!: number;
}

class FreshnessPageDto implements FreshnessPage {
  @ApiProperty({ example: 0, description: 'Index into SYNC_PRODUCT_IDS of the first row' })
  offset!: number;
  @ApiProperty({ example: 500, description: 'Rows asked for (1 with productId)' })
  limit!: number;
  @ApiProperty({ example: 5000, description: 'Configured products (SYNC_PRODUCT_IDS)' })
  total!: number;
}

export class FreshnessMatrixDto implements FreshnessMatrix {
  @ApiProperty({ example: '2026-03-10T12:00:00.000Z' })
  generatedAt!: string;
  @ApiProperty({ example: 'UTC' })
  timeZone!: string;
  @ApiProperty({ example: '2026-03-10', description: 'Today in SYNC_TIMEZONE' })
  today!: string;
  @ApiProperty({ type: [String], description: 'today .. today+59 (60 dates)' })
  dates!: string[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: [...FRESHNESS_STATES] },
    example: { f: 'fresh', d: 'due', s: 'stale', n: 'never', x: 'failed' },
  })
  codes!: Record<string, FreshnessState>;
  @ApiProperty({ type: [FreshnessBandDto] })
  bands!: FreshnessBand[];
  @ApiProperty({
    type: FreshnessCountsDto,
    description: 'Cells per state over every configured product (not only this page)',
  })
  counts!: Record<FreshnessState, number>;
  @ApiProperty({
    type: FreshnessPageDto,
    description: 'Which configured products `products` holds',
  })
  page!: FreshnessPage;
  @ApiProperty({
    type: [ProductFreshnessRowDto],
    description:
      'One row per product of the page, in SYNC_PRODUCT_IDS order (or the one asked with productId)',
  })
  products!: ProductFreshnessRow[];
  @ApiProperty({
    description:
      'True while the database cannot answer: this is the last matrix this instance built ' +
      '(generatedAt says when). With none, the answer is 503 database unavailable.',
  })
  degraded!: boolean;
}
