import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { findProjectRoot } from '../../common/project-root';

/** One migration folder in Prisma's layout: prisma/migrations/<timestamp>_<name>/migration.sql */
export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

// Any constant works; it only has to be the same for every migrator of this service.
export const MIGRATION_LOCK_KEY = 724_315_001;

export const DEFAULT_MIGRATIONS_DIR = path.join(findProjectRoot(__dirname), 'prisma', 'migrations');

/** Prisma records sha256 (hex) of migration.sql as the checksum; we do the same. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder not found: ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    });
}

// The same table `prisma migrate deploy` creates, so either tool can take over from the other.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that
 * instances booting together never race. Refuses to run when an applied migration's file changed
 * or when Prisma recorded an unfinished migration.
 */
export async function migrate(
  connectionString: string,
  migrations: MigrationFile[] = readMigrations(),
): Promise<MigrationResult> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyPending(client, migrations);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(client: Client, migrations: MigrationFile[]): Promise<MigrationResult> {
  await client.query(CREATE_MIGRATIONS_TABLE);
  const { rows } = await client.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  const applied = new Map(rows.map((r) => [r.migration_name, r]));

  const unfinished = rows.find((r) => r.finished_at === null);
  if (unfinished) {
    throw new MigrationError(
      `migration ${unfinished.migration_name} was started but never finished (recorded in _prisma_migrations); ` +
        'inspect the database, then mark it rolled back or finished before starting again',
    );
  }
  for (const m of migrations) {
    const row = applied.get(m.name);
    if (row && row.checksum !== m.checksum) {
      throw new MigrationError(
        `migration ${m.name} was already applied but its migration.sql has changed since ` +
          `(applied checksum ${row.checksum.slice(0, 12)}…, file ${m.checksum.slice(0, 12)}…); ` +
          'restore the original file and put the change in a new migration',
      );
    }
  }

  const result: MigrationResult = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    if (applied.has(m.name)) {
      result.alreadyApplied.push(m.name);
      continue;
    }
    const startedAt = new Date();
    await client.query('BEGIN');
    try {
      await client.query(m.sql);
      await client.query(
        `INSERT INTO "_prisma_migrations"
           (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES ($1, $2, now(), $3, NULL, NULL, $4, 1)`,
        [randomUUID(), m.checksum, m.name, startedAt],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new MigrationError(
        `migration ${m.name} failed and was rolled back, nothing of it is applied: ${(err as Error).message}`,
      );
    }
    result.applied.push(m.name);
  }
  return result;
}
