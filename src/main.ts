import 'reflect-metadata';
import { ConfigError, loadConfig, type RunMode } from './config/app-config';
import { createApp } from './app.factory';
import { AppLogger } from './ops/app-logger';
import { installShutdownSignals } from './ops/shutdown-signals';

async function bootstrap(): Promise<void> {
  const mode: RunMode = process.argv.includes('--demo') ? 'demo' : 'production';
  let config;
  try {
    config = loadConfig(process.env, mode);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`Invalid configuration: ${problem}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = new AppLogger({
    level: config.log.level,
    format: config.log.format,
    secrets: [config.partner.apiKey, config.adminToken],
  });
  const app = await createApp(config, logger);
  await app.listen(config.http.port, config.http.host);
  installShutdownSignals(app, logger, { timeoutMs: config.shutdownTimeoutMs });
  const url = await app.getUrl();
  logger.log(
    { msg: 'listening', url, mode, database: config.database.url ? 'postgresql' : 'embedded' },
    'Bootstrap',
  );
}

bootstrap().catch((err: unknown) => {
  console.error(`Failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
