import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig, type RunMode } from '../../src/config/app-config';

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
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env }, mode);
  const app = await createApp(config, false);
  await app.listen(0, '127.0.0.1');
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, config, baseUrl, close: () => app.close() };
}
