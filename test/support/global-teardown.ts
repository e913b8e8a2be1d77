import { Client } from 'pg';
import { ADMIN_DATABASE_URL } from './test-database';

/** Drops test databases a crashed run may have left behind (older than an hour). */
export default async function globalTeardown(): Promise<void> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'inv\\_%'",
    );
    const hourAgo = Date.now() - 3600_000;
    for (const { datname } of rows) {
      const stamp = parseInt(datname.split('_')[2] ?? '', 36);
      if (Number.isFinite(stamp) && stamp < hourAgo) {
        await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  } finally {
    await c.end();
  }
}
