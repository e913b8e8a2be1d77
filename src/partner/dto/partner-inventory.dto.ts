// class-transformer's @Type reads design metadata; make the DTOs usable outside Nest too.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

/** Largest value the stored columns hold (Decimal(14,4) prices, int4 counts). */
export const MAX_PRICE = 9_999_999_999;
export const MAX_INT = 2_147_483_647;

const FINITE = { allowNaN: false, allowInfinity: false };

/** `price` of one pax type, as the partner sends it (JSON numbers). */
export class PartnerPriceDto {
  @IsNumber(FINITE)
  @Min(0)
  @Max(MAX_PRICE)
  finalPrice!: number;

  @IsNumber(FINITE)
  @Min(0)
  @Max(MAX_PRICE)
  originalPrice!: number;

  @IsNumber(FINITE)
  @Min(0)
  @Max(MAX_PRICE)
  discount!: number;

  @Matches(/^[A-Z]{3}$/, { message: 'currencyCode must be a 3-letter ISO code' })
  currencyCode!: string;
}

export class PartnerPaxDto {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  type!: string;

  @IsString()
  @MaxLength(200)
  name!: string;

  @IsString()
  @MaxLength(1000)
  description!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_INT)
  min!: number;

  @IsInt()
  @Min(0)
  @Max(MAX_INT)
  max!: number;

  @IsInt()
  @Min(0)
  @Max(MAX_INT)
  remaining!: number;

  @IsOptional()
  @IsBoolean()
  isPrimary?: boolean;

  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PartnerPriceDto)
  price!: PartnerPriceDto;
}

export class PartnerSlotDto {
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'startDate must be YYYY-MM-DD' })
  startDate!: string;

  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'startTime must be HH:MM' })
  startTime!: string;

  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'endTime must be HH:MM' })
  endTime!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  providerSlotId!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_INT)
  remaining!: number;

  @Matches(/^[A-Z]{3}$/, { message: 'currencyCode must be a 3-letter ISO code' })
  currencyCode!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_INT)
  variantId!: number;

  @IsDefined()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PartnerPaxDto)
  paxAvailability!: PartnerPaxDto[];
}
