import { ApiProperty } from '@nestjs/swagger';

/** The assignment's Price, plus the additive `discount`. Exact decimals as JSON numbers. */
export class PriceDto {
  @ApiProperty({ example: 212.14, description: 'Price to pay' })
  finalPrice!: number;

  @ApiProperty({ example: 312.14, description: 'Price before discount' })
  originalPrice!: number;

  @ApiProperty({ example: 'SGD' })
  currencyCode!: string;

  @ApiProperty({ example: 100, description: 'As reported by the partner (additive field)' })
  discount!: number;
}

export class PaxAvailabilityDto {
  @ApiProperty({ example: 'ADULT_12~99' })
  type!: string;

  @ApiProperty({ example: 'Adult' })
  name!: string;

  @ApiProperty({ example: '12-99 years' })
  description!: string;

  @ApiProperty({ type: PriceDto })
  price!: PriceDto;

  @ApiProperty({ example: 1 })
  min!: number;

  @ApiProperty({ example: 20 })
  max!: number;

  @ApiProperty({ example: 1000, description: 'Seats left for this passenger type' })
  remaining!: number;

  @ApiProperty({ example: true, description: 'Whether this type prices the slot (additive)' })
  isPrimary!: boolean;
}

export class SlotDto {
  @ApiProperty({ example: '2025-04-03', format: 'date' })
  startDate!: string;

  @ApiProperty({ example: '04:30', description: 'HH:mm, local time of the experience' })
  startTime!: string;

  @ApiProperty({ example: '04:30', description: 'Additive field' })
  endTime!: string;

  @ApiProperty({
    type: PriceDto,
    description: "The primary passenger type's price, else the first type's",
  })
  price!: PriceDto;

  @ApiProperty({ example: 2000, description: 'Seats left in the slot' })
  remaining!: number;

  @ApiProperty({ type: [PaxAvailabilityDto] })
  paxAvailability!: PaxAvailabilityDto[];

  @ApiProperty({ example: '225532707686_2025-04-03T04:30', description: 'Additive field' })
  providerSlotId!: string;

  @ApiProperty({ example: 32, description: 'Additive field' })
  variantId!: number;
}

export class DateAvailabilityDto {
  @ApiProperty({ example: '2025-04-03', format: 'date' })
  date!: string;

  @ApiProperty({ type: PriceDto, description: 'The lowest slot price of the day' })
  price!: PriceDto;
}

export class DateInventoryDto {
  @ApiProperty({
    type: [DateAvailabilityDto],
    description: 'Dates with seats left from today to today + 2 months, ascending',
  })
  dates!: DateAvailabilityDto[];
}
