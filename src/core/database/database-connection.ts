import { Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { EmbeddedPostgres } from './embedded-postgres';
import { migrate } from './migrator';

/** Where the database is and who owns it; resolved (and migrated) before anything uses it. */
export interface DatabaseConnection {
  url: string;
  poolSize: number;
  kind: 'postgresql' | 'embedded';
  embedded?: EmbeddedPostgres;
  /**
   * How long a query waits for a pooled connection (default 5 s: longer means the server cannot
   * be reached, an outage).
   */
  acquireTimeoutMs?: number;
}

/**
 * The embedded database lives in this process, so it cannot be unreachable: waiting for its one
 * connection is queueing behind another query, never an outage, and is given this long.
 */
export const EMBEDDED_ACQUIRE_TIMEOUT_MS = 60_000;

export const DATABASE_CONNECTION = Symbol('DATABASE_CONNECTION');

/** Starts the embedded database when no DATABASE_URL is set, then applies pending migrations. */
export async function openDatabase(config: AppConfig): Promise<DatabaseConnection> {
  const logger = new Logger('Database');
  let connection: DatabaseConnection;
  if (config.database.url) {
    connection = {
      url: config.database.url,
      poolSize: config.database.poolSize,
      kind: 'postgresql',
    };
  } else {
    const embedded = await EmbeddedPostgres.start(config.database.dataDir);
    logger.log({ msg: 'embedded PostgreSQL (PGlite) started', dataDir: config.database.dataDir });
    // PGlite runs one query at a time; a single pooled connection avoids queueing surprises.
    connection = {
      url: embedded.connectionString,
      poolSize: 1,
      kind: 'embedded',
      embedded,
      acquireTimeoutMs: EMBEDDED_ACQUIRE_TIMEOUT_MS,
    };
  }
  try {
    const result = await migrate(connection.url);
    logger.log({
      msg: 'migrations checked',
      applied: result.applied,
      alreadyApplied: result.alreadyApplied.length,
    });
  } catch (err) {
    await connection.embedded?.stop();
    throw err;
  }
  return connection;
}
