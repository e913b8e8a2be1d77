import { Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service';
import { acceptRequestId, requestContext } from './request-context';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * The route label of a request: Express' matched route template (never the raw path, which would
 * put product ids and dates into metric labels), or "unmatched" when no route took the request.
 */
export function routeLabel(req: Pick<Request, 'route' | 'baseUrl'>): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl ?? ''}${path}`;
}

// Probes and scrapes arrive every few seconds; at info they would drown the useful lines.
const QUIET_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

/**
 * Express middleware, mounted before every route: gives each request an id (honouring a sane
 * incoming X-Request-Id), echoes it back, runs the rest of the request inside the request
 * context (so every log line carries it), and on completion writes one access line and
 * observes the HTTP duration histogram.
 */
@Injectable()
export class HttpObserver {
  private readonly logger = new Logger('HttpAccess');

  constructor(private readonly metrics: MetricsService) {}

  readonly handle = (req: Request, res: Response, next: NextFunction): void => {
    const requestId = acceptRequestId(req.headers['x-request-id']);
    const started = process.hrtime.bigint();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    (req as Request & { requestId?: string }).requestId = requestId;
    // 'close' follows every response, completed ('finish' came first) or cut by the client: one
    // listener per request instead of two.
    res.on('close', () => this.finished(req, res, requestId, started, res.writableFinished));
    requestContext.run({ requestId }, next);
  };

  private finished(
    req: Request,
    res: Response,
    requestId: string,
    started: bigint,
    completed: boolean,
  ): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeLabel(req);
    const status = res.statusCode;
    this.metrics.observeHttpRequest(req.method, route, status, seconds);
    const line = {
      msg: completed ? 'request' : 'request aborted by client',
      requestId,
      method: req.method,
      route,
      status,
      durationMs: Math.round(seconds * 100_000) / 100,
    };
    // A 503 that says when to retry (database outage) or a probe's 503 is an announced state,
    // logged once by whoever owns it (DatabaseOutage, readiness), not a failure per request.
    const announced = status === 503 && (res.hasHeader('Retry-After') || QUIET_ROUTES.has(route));
    if ((status >= 500 && !announced) || !completed) this.logger.warn(line);
    else if (QUIET_ROUTES.has(route)) this.logger.debug(line);
    else this.logger.log(line);
  }
}
