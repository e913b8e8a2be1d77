import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { HttpObserver } from './ops/http-observer';
import { OPENAPI_UI_PATH, setupOpenApi } from './ops/openapi';
import { docsContentSecurityPolicy, securityHeaders } from './ops/security-headers';

/** Builds the application exactly as production runs it; e2e tests use the same function. */
export async function createApp(
  config: AppConfig,
  logger: LoggerService | false,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  // Security headers on every answer, errors and 404s included; /docs gets swagger-ui's CSP.
  app.use(securityHeaders());
  app.use(`/${OPENAPI_UI_PATH}`, docsContentSecurityPolicy());
  // Before every route: request id, access log line and HTTP metrics for every request.
  app.use(app.get(HttpObserver).handle);
  // No enableShutdownHooks(): main.ts installs SIGTERM/SIGINT handlers that drain first and exit 0
  // (src/ops/shutdown-signals.ts); Nest's own would close the database under in-flight work.
  setupOpenApi(app);
  return app;
}
