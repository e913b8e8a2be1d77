// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database).
import { ConfigError, loadConfig } from '../../config/app-config';
import { openDatabase } from './database-connection';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'demo');
  const db = await openDatabase(config);
  await db.embedded?.stop();
  console.log(`migrations up to date (${db.kind} database)`);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? `Invalid configuration: ${err.message}` : String(err);
  console.error(message);
  process.exit(1);
});
