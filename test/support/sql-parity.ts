/**
 * Parity of a SQL fragment with the TypeScript it mirrors: random cases evaluated both ways, on
 * the PostgreSQL server the tests use and on PGlite (the embedded database the service falls back
 * to), whose float8 functions need not round alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Client } from 'pg';
import { EmbeddedPostgres } from '../../src/core/database/embedded-postgres';
import { migrate } from '../../src/core/database/migrator';
import { Prisma } from '../../src/generated/prisma/client';
import { ADMIN_DATABASE_URL, createTestDatabase } from './test-database';

interface OpenDatabase {
  url: string;
  close(): Promise<void>;
}

export interface ParityDatabases {
  /**
   * For fragments that read tables: on PostgreSQL a migrated test database named after this
   * prefix, and PGlite migrated too. Without it both are bare (fragments over values only).
   */
  tablesIn?: string;
}

async function onPostgres({ tablesIn }: ParityDatabases): Promise<OpenDatabase> {
  if (!tablesIn) return { url: ADMIN_DATABASE_URL, close: async () => undefined };
  const database = await createTestDatabase(tablesIn);
  return { url: database.url, close: () => database.drop() };
}

async function onPglite({ tablesIn }: ParityDatabases): Promise<OpenDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'parity-pglite-'));
  const embedded = await EmbeddedPostgres.start(dir).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const close = async () => {
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  if (tablesIn) {
    await migrate(embedded.connectionString).catch(async (err: unknown) => {
      await close();
      throw err;
    });
  }
  return { url: embedded.connectionString, close };
}

/** A client of the database `open` gives, connected before the describe's tests, closed after. */
function connectedClient(title: string, open: () => Promise<OpenDatabase>): () => Client {
  let database: OpenDatabase | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    database = await open();
    const c = new Client({ connectionString: database.url });
    await c.connect();
    client = c;
  });
  afterAll(async () => {
    await client?.end();
    await database?.close();
  });
  return () => {
    if (!client) throw new Error(`${title}: the database is used outside its tests`);
    return client;
  };
}

/**
 * Declares `tests` twice, as `<title> on PostgreSQL` and `<title> on PGlite`; `db()` is that
 * database's connected client, inside the tests.
 */
export function describeOnPostgresAndPglite(
  title: string,
  tests: (db: () => Client) => void,
  databases: ParityDatabases = {},
): void {
  describe(`${title} on PostgreSQL`, () => {
    tests(connectedClient(`${title} on PostgreSQL`, () => onPostgres(databases)));
  });
  describe(`${title} on PGlite`, () => {
    tests(connectedClient(`${title} on PGlite`, () => onPglite(databases)));
  });
}

/** The rows of `q`. */
export async function query<T>(db: Client, q: Prisma.Sql): Promise<T[]> {
  return (await db.query(q.text, q.values)).rows as T[];
}

/**
 * `rows` as the table `u(idx, <columns>)` for a FROM clause, `idx` their index in `rows`: each
 * column its SQL type and how a row gives its value.
 */
export function unnestRows<R>(
  rows: readonly R[],
  columns: Record<string, [type: string, value: (row: R) => unknown]>,
): Prisma.Sql {
  const arrays = Object.values(columns).map(
    ([type, value]) => Prisma.sql`${rows.map(value)}::${Prisma.raw(type)}[]`,
  );
  return Prisma.sql`unnest(${rows.map((_, i) => i)}::int[], ${Prisma.join(arrays)})
                    AS u(idx, ${Prisma.raw(Object.keys(columns).join(', '))})`;
}

export interface Tolerance {
  /** Of the larger magnitude; 1e-9 unless told. */
  relative?: number;
  /** The difference always allowed (near 0, where a relative bound is no bound). */
  floor: number;
}

/** Equal, or apart by at most the tolerance. */
export function closeTo(a: number, b: number, { relative = 1e-9, floor }: Tolerance): boolean {
  return (
    a === b || Math.abs(a - b) <= Math.max(relative * Math.max(Math.abs(a), Math.abs(b)), floor)
  );
}

/** How a case is evaluated both ways: each of its rows gives the same named numbers. */
export interface ParityCheck<C, N extends Record<string, number>> {
  /** The case's rows, to name a row that disagrees. */
  rows(c: C): readonly unknown[];
  byTypeScript(c: C): N[];
  bySql(c: C): Promise<N[]>;
  tolerance: Tolerance;
  numRuns: number;
}

/**
 * Fails with the first row of a random case whose numbers by SQL and by TypeScript are apart by
 * more than the tolerance (fast-check then shrinks the case).
 */
export async function assertParity<C, N extends Record<string, number>>(
  cases: fc.Arbitrary<C>,
  check: ParityCheck<C, N>,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(cases, async (c) => {
      const sql = await check.bySql(c);
      const ts = check.byTypeScript(c);
      if (sql.length !== ts.length) {
        throw new Error(`${ts.length} rows by TypeScript, ${sql.length} by SQL`);
      }
      const rows = check.rows(c);
      ts.forEach((t, i) => {
        const names = Object.keys(t);
        if (names.every((n) => closeTo(t[n], sql[i][n], check.tolerance))) return;
        const show = (values: N) => names.map((n) => `${n} ${values[n]}`).join(', ');
        throw new Error(
          `row ${i} ${JSON.stringify(rows[i])}: TypeScript ${show(t)}; SQL ${show(sql[i])}`,
        );
      });
    }),
    { numRuns: check.numRuns },
  );
}
