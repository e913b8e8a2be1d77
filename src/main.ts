import 'reflect-metadata';
import { ConfigError, loadConfig, type RunMode } from './config/app-config';
import { createApp } from './app.factory';
import { AppLogger } from './ops/app-logger';
import { assertPortAvailable, listenError } from './ops/port-check';
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
    secrets: [...config.partner.apiKeys, config.adminToken],
  });
  for (const notice of config.notices) logger.warn({ msg: notice }, 'Config');
  // Before createApp: it migrates the database and may take the sync lease.
  await assertPortAvailable(config.http.port, config.http.host);
  const app = await createApp(config, logger);
  try {
    await app.listen(config.http.port, config.http.host);
  } catch (err) {
    // Taken since the check: release the lease and the database before exiting.
    await app.close().catch(() => undefined);
    throw listenError(err, config.http.port, config.http.host);
  }
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
