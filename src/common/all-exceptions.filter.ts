import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  Optional,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import {
  DatabaseOutageReporter,
  DatabaseUnavailableError,
  isDatabaseUnavailable,
} from './database-unavailable';
import { DomainError } from './domain-error';

/** The JSON shape of every error the API returns. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

/**
 * A 4xx error object that is not an HttpException (Nest already turns Fastify's own errors, such
 * as a body over the limit, into HttpExceptions): its status and message stay.
 */
function isClientHttpError(e: unknown): e is { statusCode: number; message: string } {
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** The matched route template, or "unmatched" (Fastify's not-found handler has none). */
function routeOf(req: FastifyRequest): string {
  return req.routeOptions?.url ?? 'unmatched';
}

/**
 * One place where every exception becomes an HTTP answer: HttpExceptions keep their status,
 * DomainErrors map to theirs, body-parser errors stay 4xx, an unavailable database (Prisma or pg
 * connection errors, by class and code) is 503 "database unavailable" with Retry-After, anything
 * else is a logged 500. Error details (Prisma's text with hosts and ports) never reach the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  constructor(@Optional() private readonly outage?: DatabaseOutageReporter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<FastifyReply>();
    const req = ctx.getRequest<FastifyRequest>();
    if (res.sent) return;
    if (isDatabaseUnavailable(exception)) {
      // Counted in the outage's summary lines instead of one error line per request.
      const reported = this.outage?.report(`http ${routeOf(req)}`, exception);
      if (!reported) {
        this.logger.warn({
          msg: 'database unavailable',
          method: req.method,
          route: routeOf(req),
          error: exception instanceof Error ? exception.message : String(exception),
        });
      }
      const unavailable =
        exception instanceof DatabaseUnavailableError ? exception : new DatabaseUnavailableError();
      res.header('Retry-After', String(unavailable.retryAfterSeconds));
      exception = unavailable;
    }

    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message: string | string[] = 'Internal server error';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      message =
        typeof body === 'string'
          ? body
          : ((body as { message?: string | string[] }).message ?? exception.message);
    } else if (exception instanceof DomainError) {
      status = exception.httpStatus;
      message = exception.message;
    } else if (isClientHttpError(exception)) {
      status = exception.statusCode;
      message = exception.message;
    }

    if (status >= 500 && !(exception instanceof DatabaseUnavailableError)) {
      this.logger.error({
        msg: 'request failed',
        method: req.method,
        route: routeOf(req),
        error: exception instanceof Error ? exception.message : String(exception),
        stack: exception instanceof Error ? exception.stack : undefined,
      });
    }
    const body: ErrorBody = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
    res.status(status).send(body);
  }
}
