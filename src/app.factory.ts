import {
  BadRequestException,
  UnsupportedMediaTypeException,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { HttpObserver, requestIdOf } from './ops/http-observer';
import { OPENAPI_UI_PATH, setupOpenApi } from './ops/openapi';
import { securityHeadersHook } from './ops/security-headers';

/** Builds the application exactly as production runs it; e2e tests use the same function. */
export async function createApp(
  config: AppConfig,
  logger: LoggerService | false,
): Promise<INestApplication> {
  const adapter = new FastifyAdapter({
    // The request id: a sane incoming X-Request-Id or a new UUID (HttpObserver echoes it).
    genReqId: requestIdOf,
    // Fastify's own logger stays off: HttpObserver writes the access line through AppLogger.
    logger: false,
    // The control endpoints take a few bytes of JSON; express' default limit.
    bodyLimit: 100 * 1024,
    // Fastify turns off Node's limit on receiving a request (300 s); a client that trickles its
    // headers or body is cut after 30 s, far more than a 100 KB request needs.
    requestTimeout: 30_000,
    // No Nest middleware is used (hooks instead), so middie's per-request pass is not needed.
    skipMiddie: true,
    // `/health/` is `/health`, as it was on express.
    routerOptions: { ignoreTrailingSlash: true },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    adapter,
    // The JSON parser below replaces Nest's; no form bodies.
    { logger, abortOnError: false, bodyParser: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  jsonBodiesOnly(fastify);
  // Security headers on every answer, errors and 404s included; /docs gets swagger-ui's CSP.
  fastify.addHook('onRequest', securityHeadersHook(`/${OPENAPI_UI_PATH}`));
  // Before every route: request id, access log line and HTTP metrics for every request.
  app.get(HttpObserver).attach(fastify);
  // No enableShutdownHooks(): main.ts installs SIGTERM/SIGINT handlers that drain first and exit 0
  // (src/ops/shutdown-signals.ts); Nest's own would close the database under in-flight work.
  setupOpenApi(app);
  return app;
}

/**
 * Request bodies are JSON only (the control endpoints): Fastify's parser (prototype poisoning
 * refused) with the service's own error, an empty body taken as no body (`POST /sync/pause` sent
 * with only `Content-Type: application/json` is valid, as it was on express, not Fastify's 400),
 * and any other type with a body a 415 that says what to send.
 */
function jsonBodiesOnly(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    void parse(req, body as string, (err, value) => {
      if (err) done(new BadRequestException('Request body is not valid JSON'), undefined);
      else done(null, value);
    });
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    if (body.length === 0) return done(null, undefined);
    done(new UnsupportedMediaTypeException('Unsupported Content-Type: send application/json'));
  });
}
