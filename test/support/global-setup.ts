import { Client } from 'pg';
import { ADMIN_DATABASE_URL } from './test-database';

/** Fails the whole run early, with a clear line, when the test PostgreSQL does not answer. */
export default async function globalSetup(): Promise<void> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `Tests need PostgreSQL at ${ADMIN_DATABASE_URL} (set TEST_DATABASE_ADMIN_URL): ${(err as Error).message}`,
    );
  } finally {
    await c.end().catch(() => undefined);
  }
}
