import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '../../src/core/database/migrator';

/** The server the tests use; each test database is created on it and dropped afterwards. */
export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const u = new URL(ADMIN_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * When a test database was created, from its name (`<prefix>_<ms in base 36>_<hex>`; the prefix
 * may hold underscores, so the stamp is read from the end); null for a name of another shape.
 */
export function createdAtOf(name: string): number | null {
  const parts = name.split('_');
  if (parts.length < 3 || !/^[0-9a-f]{6}$/.test(parts[parts.length - 1])) return null;
  const stamp = parts[parts.length - 2];
  if (!/^[0-9a-z]+$/.test(stamp)) return null;
  const ms = parseInt(stamp, 36);
  return Number.isFinite(ms) ? ms : null;
}

/** Creates an empty database with a unique name (migrated unless told otherwise). */
export async function createTestDatabase(
  prefix = 'inv_test',
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(name);
  if (options.migrate !== false) await migrate(url);
  return { name, url, drop: () => dropDatabase(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
