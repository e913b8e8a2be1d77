import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig, type RunMode } from '../../src/config/app-config';
import { AppLogger } from '../../src/ops/app-logger';
import { TEST_LOGS } from './test-logs';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  baseUrl: string;
  close(): Promise<void>;
}

/** Boots the real AppModule on an ephemeral port with the given environment. */
export async function startTestApp(
  env: Record<string, string | undefined>,
  mode: RunMode = 'demo',
): Promise<TestApp> {
  const level = TEST_LOGS ? (process.env.LOG_LEVEL ?? 'info') : 'silent';
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: level, ...env }, mode);
  const logger = TEST_LOGS
    ? new AppLogger({
        level: config.log.level,
        format: config.log.format,
        secrets: [...config.partner.apiKeys, config.adminToken],
      })
    : false;
  const app = await createApp(config, logger);
  await app.listen(0, '127.0.0.1');
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, config, baseUrl, close: () => app.close() };
}
