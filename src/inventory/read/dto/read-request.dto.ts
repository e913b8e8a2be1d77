import { ApiProperty } from '@nestjs/swagger';
import {
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { calendarDateProblem, MAX_PRODUCT_ID, productIdProblem } from '../read-input';

@ValidatorConstraint({ name: 'productId' })
class IsProductId implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return productIdProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return productIdProblem(args.value) ?? '';
  }
}

@ValidatorConstraint({ name: 'calendarDate' })
class IsCalendarDateParam implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return calendarDateProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return calendarDateProblem(args.value) ?? '';
  }
}

/** The `{productId}` path parameter. Kept a string until validated, so the message can quote it. */
export class ProductParams {
  @ApiProperty({
    description: "The partner's product id",
    type: 'integer',
    minimum: 1,
    maximum: MAX_PRODUCT_ID,
    example: 14,
  })
  @Validate(IsProductId)
  productId!: string;
}

/** The `?date=` of the slots endpoints. */
export class SlotsQuery {
  @ApiProperty({
    description: 'Calendar date in YYYY-MM-DD (a day in SYNC_TIMEZONE)',
    type: 'string',
    format: 'date',
    example: '2025-04-03',
  })
  @Validate(IsCalendarDateParam)
  date!: string;
}
