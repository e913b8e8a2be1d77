import { Injectable, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { MetricsService } from './metrics.service';
import { acceptRequestId, requestContext } from './request-context';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * The route label of a request: the matched route template (never the raw path, which would put
 * product ids and dates into metric labels), or "unmatched" when no route took the request (404s
 * answer from Fastify's not-found handler, which has no template).
 */
export function routeLabel(req: { routeOptions?: { url?: unknown } }): string {
  const url = req.routeOptions?.url;
  return typeof url === 'string' ? url : 'unmatched';
}

/** Fastify's `genReqId`: a sane incoming X-Request-Id, otherwise a new UUID. */
export function requestIdOf(raw: IncomingMessage): string {
  return acceptRequestId(raw.headers['x-request-id']);
}

// Probes and scrapes arrive every few seconds; at info they would drown the useful lines.
const QUIET_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

type Done = (err?: Error) => void;

/**
 * Hooks on the Fastify instance, before every route: echoes the request id (Fastify's
 * `request.id`, from `requestIdOf`), runs the rest of the request inside the request context (so
 * every log line carries it), and on completion writes one access line and observes the HTTP
 * duration histogram.
 */
@Injectable()
export class HttpObserver {
  private readonly logger = new Logger('HttpAccess');

  constructor(private readonly metrics: MetricsService) {}

  attach(fastify: FastifyInstance): void {
    // The context entered here holds through body parsing and the handler (test/ops-process).
    fastify.addHook('onRequest', this.onRequest);
  }

  readonly onRequest = (req: FastifyRequest, reply: FastifyReply, done: Done): void => {
    const started = process.hrtime.bigint();
    reply.header(REQUEST_ID_HEADER, req.id);
    // 'close' follows every response, completed ('finish' came first) or cut by the client.
    const res = reply.raw;
    res.on('close', () => this.finished(req, reply, started, res.writableFinished));
    requestContext.run({ requestId: req.id }, done);
  };

  private finished(
    req: FastifyRequest,
    reply: FastifyReply,
    started: bigint,
    completed: boolean,
  ): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeLabel(req);
    const status = reply.raw.statusCode;
    const requestId = req.id;
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
    const announced = status === 503 && (reply.hasHeader('Retry-After') || QUIET_ROUTES.has(route));
    if ((status >= 500 && !announced) || !completed) this.logger.warn(line);
    else if (QUIET_ROUTES.has(route)) this.logger.debug(line);
    else this.logger.log(line);
  }
}
