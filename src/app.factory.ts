import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { HttpObserver } from './ops/http-observer';
import { setupOpenApi } from './ops/openapi';

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
  // Before every route: request id, access log line and HTTP metrics for every request.
  app.use(app.get(HttpObserver).handle);
  // No enableShutdownHooks(): main.ts installs SIGTERM/SIGINT handlers that drain first and exit 0
  // (src/ops/shutdown-signals.ts); Nest's own would close the database under in-flight work.
  setupOpenApi(app);
  return app;
}
