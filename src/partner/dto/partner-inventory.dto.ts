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
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

/** Largest value the stored columns hold (Decimal(14,4) prices, int4 counts). */
export const MAX_PRICE = 9_999_999_999;
export const MAX_INT = 2_147_483_647;

const FINITE = { allowNaN: false, allowInfinity: false };

/**
 * Characters each partner text column holds: its `@db.VarChar(n)` in prisma/schema.prisma (the
 * DTO spec reads the schema and fails when they part). Times (HH:MM) and currency codes (3
 * letters) are bounded by their patterns, within their VarChar(5) and VarChar(8).
 */
export const COLUMN_CHARS = {
  providerSlotId: 255,
  paxType: 64,
  paxName: 255,
  paxDescription: 1000,
} as const;

/** Why a string cannot be stored as sent, or null when it can (see ColumnText). */
export function columnTextProblem(value: string, maxChars: number): string | null {
  // PostgreSQL text cannot hold NUL: the store would fail on every retry.
  if (value.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  // Encoded to UTF-8 on the way to the database, it would silently become U+FFFD.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
    return 'holds a lone UTF-16 surrogate (not a Unicode character)';
  }
  // VarChar(n) counts code points (a pair of surrogates is one); validator.js's length also
  // leaves out variation selectors, which PostgreSQL counts.
  let chars = value.length;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) chars--;
  }
  if (chars > maxChars) return `must be at most ${maxChars} characters (its column's size)`;
  return null;
}

/**
 * A string PostgreSQL stores exactly as sent in a VarChar(maxChars) column. Other control
 * characters (tab, newline, U+0001…) are accepted: text holds them and the read API's JSON
 * escapes them, so they cost no product-date its sync.
 */
function ColumnText(maxChars: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'columnText',
      constraints: [maxChars],
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'string' || columnTextProblem(value, maxChars) === null,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'value'} ${columnTextProblem(String(args?.value), maxChars) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

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
  @ColumnText(COLUMN_CHARS.paxType)
  type!: string;

  @IsString()
  @ColumnText(COLUMN_CHARS.paxName)
  name!: string;

  @IsString()
  @ColumnText(COLUMN_CHARS.paxDescription)
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
  @ColumnText(COLUMN_CHARS.providerSlotId)
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
