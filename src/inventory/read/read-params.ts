import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiParamOptions, ApiQueryOptions } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { calendarDateProblem, MAX_PRODUCT_ID, productIdProblem } from './read-input';

// The read routes parse their two inputs here instead of through the global ValidationPipe:
// class-transformer + class-validator per request cost more than serving a cached answer does.
// The rules and messages are the same pure functions (read-input.ts).

/** The `{productId}` path parameter as a number; 400 saying what is wrong otherwise. */
export const ProductIdParam = createParamDecorator((_: unknown, ctx: ExecutionContext): number => {
  const params = ctx.switchToHttp().getRequest<FastifyRequest>().params as Record<string, unknown>;
  const value = params.productId;
  const problem = productIdProblem(value);
  if (problem !== undefined) throw new BadRequestException(problem);
  return Number(value);
});

/** The `?date=` query parameter (one calendar date, YYYY-MM-DD); 400 saying what is wrong otherwise. */
export const DateQuery = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const query = ctx.switchToHttp().getRequest<FastifyRequest>().query as Record<string, unknown>;
  const value = query.date;
  const problem = calendarDateProblem(value);
  if (problem !== undefined) throw new BadRequestException(problem);
  return value as string;
});

export const PRODUCT_ID_DOC: ApiParamOptions = {
  name: 'productId',
  description: "The partner's product id",
  schema: { type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID, example: 14 },
};

export const DATE_DOC: ApiQueryOptions = {
  name: 'date',
  required: true,
  description: 'Calendar date in YYYY-MM-DD (a day in SYNC_TIMEZONE)',
  schema: { type: 'string', format: 'date', example: '2025-04-03' },
};
