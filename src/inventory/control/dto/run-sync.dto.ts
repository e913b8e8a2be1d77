import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { SYNC_WINDOWS, type SyncWindow } from '../../sync-window';

export class RunSyncDto {
  @ApiProperty({ enum: SYNC_WINDOWS, example: 'quarter-hourly' })
  @IsIn(SYNC_WINDOWS, { message: `window must be one of ${SYNC_WINDOWS.join(', ')}` })
  window!: SyncWindow;

  @ApiPropertyOptional({
    type: [Number],
    example: [14],
    description:
      'Restrict the run to these products (each must be in SYNC_PRODUCT_IDS); default all.',
  })
  @IsOptional()
  @IsArray({ message: 'productIds must be an array of product ids' })
  @ArrayMinSize(1, { message: 'productIds must not be empty when given' })
  @ArrayMaxSize(10_000, { message: 'productIds must hold at most 10000 ids' })
  @IsInt({ each: true, message: 'productIds must hold positive integers' })
  @Min(1, { each: true, message: 'productIds must hold positive integers' })
  @Max(2_147_483_647, { each: true, message: 'productIds must hold positive integers' })
  productIds?: number[];
}

export class RunStartedDto {
  @ApiProperty({ example: 42 })
  runId!: number;

  @ApiProperty({
    description: 'Always false: a manual run marks its product-dates due, it joins no other run.',
  })
  alreadyRunning!: boolean;

  @ApiProperty({ example: 2, description: 'Product-dates of the run due after its mark' })
  marked!: number;

  @ApiProperty({
    example: 'web-2',
    description: 'The instance that recorded the run (sync_runs.instance_id)',
  })
  requestedBy!: string;
}

export class ControlReasonDto {
  @ApiPropertyOptional({ example: 'partner maintenance', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500, { message: 'reason must be at most 500 characters' })
  reason?: string;
}

export class SyncControlStateDto {
  @ApiProperty()
  paused!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'When the current state began (ISO)' })
  since!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Who made the last change' })
  by!: string | null;

  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;

  @ApiProperty({ description: 'False when the switch already was in the requested position' })
  changed!: boolean;
}
