import { Client } from 'pg';
import { ADMIN_DATABASE_URL, createdAtOf } from './test-database';

/**
 * Drops test databases a crashed run may have left behind (older than an hour). Other runs may
 * share this PostgreSQL (another checkout's suites, a CI job): their databases are younger and
 * stay.
 */
export default async function globalTeardown(): Promise<void> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'inv\\_%'",
    );
    const hourAgo = Date.now() - 3600_000;
    for (const { datname } of rows) {
      const createdAt = createdAtOf(datname);
      if (createdAt !== null && createdAt < hourAgo) {
        await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  } finally {
    await c.end();
  }
}
