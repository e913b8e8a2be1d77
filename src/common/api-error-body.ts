import { ApiProperty } from '@nestjs/swagger';

/** The JSON body of every error (src/common/all-exceptions.filter.ts), for OpenAPI responses. */
export class ApiErrorBody {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'date must be a calendar date in YYYY-MM-DD format, e.g. 2025-04-03, got "2025-02-30"',
  })
  message!: string | string[];
}
