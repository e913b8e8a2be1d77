import type { ArgumentsHost } from '@nestjs/common';
import { Logger, NotFoundException } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { DatabaseOutageReporter } from './database-unavailable';

function answer(filter: AllExceptionsFilter, exception: unknown) {
  const headers: Record<string, string> = {};
  const out: { status?: number; body?: unknown; headers: Record<string, string> } = { headers };
  const res = {
    sent: false,
    header(k: string, v: string) {
      headers[k.toLowerCase()] = v;
      return this;
    },
    status(code: number) {
      out.status = code;
      return this;
    },
    send(body: unknown) {
      out.body = body;
      return this;
    },
  };
  const host = {
    switchToHttp: () => ({
      getResponse: () => res,
      getRequest: () => ({ method: 'GET', routeOptions: { url: '/x' } }),
    }),
  } as unknown as ArgumentsHost;
  filter.catch(exception, host);
  return out;
}

class CountingReporter extends DatabaseOutageReporter {
  reports = 0;
  report(): boolean {
    this.reports++;
    return true;
  }
}

const hostLeak = "Can't reach database server at 10.1.2.3:5432";

describe('AllExceptionsFilter', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it.each([
    [
      'a Prisma P1001',
      new Prisma.PrismaClientKnownRequestError(hostLeak, { code: 'P1001', clientVersion: '7' }),
    ],
    [
      'a raw query on an unreachable server',
      new Prisma.PrismaClientKnownRequestError(hostLeak, {
        code: 'P2010',
        clientVersion: '7',
        meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
      }),
    ],
    ['pg losing its connection', new Error('Connection terminated unexpectedly')],
  ])('maps %s to 503 database unavailable with Retry-After, reported, not logged', (_w, err) => {
    const reporter = new CountingReporter();
    const out = answer(new AllExceptionsFilter(reporter), err);
    expect(out.status).toBe(503);
    expect(out.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'database unavailable',
    });
    expect(Number(out.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.stringify(out.body)).not.toContain('5432');
    expect(reporter.reports).toBe(1);
    expect(Logger.prototype.error).not.toHaveBeenCalled();
  });

  it('keeps other Prisma errors a 500 without their text', () => {
    const err = new Prisma.PrismaClientKnownRequestError(`FK at ${hostLeak}`, {
      code: 'P2003',
      clientVersion: '7',
    });
    const out = answer(new AllExceptionsFilter(new CountingReporter()), err);
    expect(out.status).toBe(500);
    expect(JSON.stringify(out.body)).not.toContain('5432');
    expect(out.headers['retry-after']).toBeUndefined();
  });

  it('keeps a 4xx error object that is not an HttpException a 4xx with its message', () => {
    const err = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    jest.spyOn(Logger.prototype, 'error');
    const out = answer(new AllExceptionsFilter(), err);
    expect(out.status).toBe(413);
    expect(out.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body is too large',
    });
    expect(Logger.prototype.error).not.toHaveBeenCalled();
  });

  it('leaves HTTP exceptions as they are', () => {
    const out = answer(new AllExceptionsFilter(), new NotFoundException('nope'));
    expect(out.status).toBe(404);
    expect(out.headers['retry-after']).toBeUndefined();
  });
});
