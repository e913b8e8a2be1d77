import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { checksumOf, migrate, MigrationError, readMigrations } from './migrator';

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

describe('migrator (real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('inv_mig', { migrate: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  it('applies every migration on a fresh database and records sha256 checksums', async () => {
    const files = readMigrations();
    expect(files.length).toBeGreaterThan(0);
    const result = await migrate(db.url);
    expect(result.applied).toEqual(files.map((f) => f.name));
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
    }>(
      db.url,
      'SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, r] of rows.entries()) {
      expect(r.checksum).toBe(checksumOf(files[i].sql));
      expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(r.finished_at).toBeInstanceOf(Date);
    }
  });

  it('is a no-op the second time', async () => {
    await migrate(db.url);
    const again = await migrate(db.url);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toHaveLength(readMigrations().length);
    const [{ n }] = await query<{ n: string }>(
      db.url,
      'SELECT count(*) AS n FROM _prisma_migrations',
    );
    expect(Number(n)).toBe(readMigrations().length);
  });

  it('serialises concurrent migrators: both succeed, each migration is applied once', async () => {
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    const appliedCounts = results.map((r) => r.applied.length).sort();
    expect(appliedCounts).toEqual([0, 0, readMigrations().length]);
    const rows = await query<{ migration_name: string; n: string }>(
      db.url,
      'SELECT migration_name, count(*) AS n FROM _prisma_migrations GROUP BY migration_name',
    );
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
  });

  it('refuses an applied migration whose file changed', async () => {
    const dir = migrationsDir({ '001_a': 'CREATE TABLE a (id int);' });
    await migrate(db.url, readMigrations(dir));
    writeFileSync(path.join(dir, '001_a', 'migration.sql'), 'CREATE TABLE a (id bigint);');
    await expect(migrate(db.url, readMigrations(dir))).rejects.toThrow(
      /migration 001_a was already applied but its migration.sql has changed/,
    );
  });

  it('rolls a failing migration back completely and says which one failed', async () => {
    const dir = migrationsDir({
      '001_ok': 'CREATE TABLE ok (id int);',
      '002_bad': 'CREATE TABLE half (id int); SELECT * FROM no_such_table;',
    });
    const attempt = migrate(db.url, readMigrations(dir));
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(/migration 002_bad failed and was rolled back/);
    const tables = await query<{ table_name: string }>(
      db.url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema='public' ORDER BY 1",
    );
    expect(tables.map((t) => t.table_name)).toEqual(['_prisma_migrations', 'ok']);
    const names = await query<{ migration_name: string }>(
      db.url,
      'SELECT migration_name FROM _prisma_migrations',
    );
    expect(names.map((r) => r.migration_name)).toEqual(['001_ok']);
  });
});
