import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class SlotChangesDto {
  @ApiProperty({ type: [String], description: 'providerSlotIds of slots new on the date' })
  added!: string[];
  @ApiProperty({ type: [String], description: 'providerSlotIds of slots gone from the date' })
  removed!: string[];
  @ApiProperty({
    type: [String],
    description: "Slots whose seats left (the slot's or a pax type's) changed",
  })
  seatsChanged!: string[];
  @ApiProperty({
    type: [String],
    description: "Slots a pax type's price, discount or currency of changed",
  })
  priceChanged!: string[];
  @ApiProperty({
    type: [String],
    description: 'Slots with other changes (times, variant, pax names, limits, order or types)',
  })
  otherChanged!: string[];
}

/** The `data` of an event: availability.changed carries the diff, product.removed only the id. */
export class ChangeEventDataDto {
  @ApiProperty({ example: 14 })
  productId!: number;
  @ApiPropertyOptional({ example: '2026-12-20', description: 'availability.changed only' })
  date?: string;
  @ApiPropertyOptional({
    example: '1042',
    description:
      'availability.changed only: the event cursor, larger for every later change of the product-date (apply a change only if its version is above the one you hold)',
  })
  version?: string;
  @ApiProperty({
    example: '2026-12-07T15:00:00.000Z',
    description: 'When the change was committed',
  })
  changedAt!: string;
  @ApiPropertyOptional({ type: SlotChangesDto })
  slots?: SlotChangesDto;
  @ApiPropertyOptional({ type: [String], description: 'Slots that had seats and now have none' })
  soldOut?: string[];
  @ApiPropertyOptional({ type: [String], description: 'Slots that had no seats and now have some' })
  reopened?: string[];
}

export class ChangeEventDto {
  @ApiProperty({
    example: '1042',
    description: 'Position in the feed (a decimal string: it may exceed 2^53)',
  })
  cursor!: string;
  @ApiProperty({ enum: ['availability.changed', 'product.removed'] })
  type!: string;
  @ApiProperty({ example: 14 })
  productId!: number;
  @ApiProperty({ type: String, nullable: true, example: '2026-12-20' })
  date!: string | null;
  @ApiProperty({ example: '2026-12-07T15:00:00.000Z' })
  changedAt!: string;
  @ApiProperty({ type: ChangeEventDataDto })
  data!: ChangeEventDataDto;
}

export class ChangePageDto {
  @ApiProperty({ type: [ChangeEventDto], description: 'Oldest first' })
  events!: ChangeEventDto[];
  @ApiProperty({ example: '1042', description: 'Pass as `after` to read the next page' })
  nextCursor!: string;
  @ApiProperty({ example: '1042', description: 'The newest cursor of the feed' })
  head!: string;
}
