import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
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
  setupOpenApi(app);
  app.enableShutdownHooks();
  return app;
}
