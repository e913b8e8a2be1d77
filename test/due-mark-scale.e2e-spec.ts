import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { EmbeddedPostgres } from '../src/core/database/embedded-postgres';
import { migrate } from '../src/core/database/migrator';
import { PrismaService } from '../src/core/prisma.service';
import { MARK_BATCH_PRODUCT_DATES } from '../src/inventory/due/due-list';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { QUIET_CRONS } from './support/default-crons';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';
import { until } from './support/until';

const ADMIN_TOKEN = 'due-mark-scale-admin-token-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const PRODUCTS = 5000;
const DAYS = 60;
/** The daily window: today .. +29. */
const DAILY_DAYS = 30;
/** How long the marks may take (PGlite's initdb alone is 10–15 s on a busy 2-core machine). */
const SCALE_WAIT_MS = 200_000;
const SCALE_TIMEOUT_MS = 300_000;

/**
 * Statement-level triggers that log, per transaction, how many product_date_syncs rows each
 * statement wrote: the shape of a mark as the database saw it, on either database.
 */
const MARK_LOG_SQL = [
  `CREATE TABLE mark_log (tx bigint NOT NULL, op text NOT NULL, rows int NOT NULL)`,
  `CREATE FUNCTION log_mark() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO mark_log SELECT txid_current(), TG_OP, count(*) FROM changed;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER mark_log_insert AFTER INSERT ON product_date_syncs
     REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_mark()`,
  `CREATE TRIGGER mark_log_update AFTER UPDATE ON product_date_syncs
     REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_mark()`,
];

/**
 * The first INSERT into product_date_syncs fails (a sequence is not rolled back with it): the
 * boot catch-up's first batch meets a database error once.
 */
const FAIL_ONCE_SQL = [
  `CREATE SEQUENCE mark_fault`,
  `CREATE FUNCTION mark_fault() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF nextval('mark_fault') = 1 THEN RAISE EXCEPTION 'injected mark failure'; END IF;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER mark_fault BEFORE INSERT ON product_date_syncs
     FOR EACH STATEMENT EXECUTE FUNCTION mark_fault()`,
];

const ids = (n: number): string => Array.from({ length: n }, (_, i) => i + 1).join(',');

/** A database of either kind, migrated, with `sql` run on it before the service boots. */
interface Storage {
  /** The environment that points the service at it. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

async function runSql(url: string, sql: string[]): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of sql) await c.query(s);
  } finally {
    await c.end();
  }
}

const kinds: Array<[string, (sql: string[]) => Promise<Storage>]> = [
  [
    'PostgreSQL',
    async (sql) => {
      const db = await createTestDatabase('inv_markscale');
      await runSql(db.url, sql);
      return { env: { DATABASE_URL: db.url }, drop: () => db.drop() };
    },
  ],
  [
    'the embedded database (PGlite)',
    async (sql) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'inv-markscale-'));
      const embedded = await EmbeddedPostgres.start(dir);
      try {
        await migrate(embedded.connectionString);
        await runSql(embedded.connectionString, sql);
      } finally {
        await embedded.stop();
      }
      return {
        env: { DATA_DIR: dir },
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
];

describe.each(kinds)('marking due at scale on %s', (_kind, prepare) => {
  let storage: Storage | undefined;
  let sim: PartnerSimulator;
  let t: TestApp | undefined;

  beforeEach(async () => {
    // The service's key is not the simulator's: the first call is refused (401) and the key is
    // held, so the dispatcher stays idle and the marks are all the database does.
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: 'the-simulators-key' });
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
    await sim.stop();
    await storage?.drop();
    storage = undefined;
  });

  const boot = async (
    products: number,
    sql: string[],
    extra: Record<string, string> = {},
  ): Promise<TestApp> => {
    storage = await prepare(sql);
    const app = await startTestApp({
      ...storage.env,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: 'due-mark-scale-wrong-key-0123456789',
      SYNC_PRODUCT_IDS: ids(products),
      SYNC_ON_BOOT: 'true',
      ...QUIET_CRONS,
      ADMIN_TOKEN,
      ...extra,
    });
    t = app;
    return app;
  };
  const prisma = (): PrismaService => t!.app.get(PrismaService);
  const count = async (sql: string): Promise<number> =>
    Number((await prisma().$queryRawUnsafe<Array<{ n: bigint }>>(sql))[0].n);
  /** Rows written per transaction by statements that wrote more than one row (the marks). */
  const markTransactions = async (): Promise<number[]> =>
    (
      await prisma().$queryRawUnsafe<Array<{ rows: bigint }>>(
        `SELECT sum(rows) AS rows FROM mark_log GROUP BY tx HAVING max(rows) > 1 ORDER BY tx`,
      )
    ).map((r) => Number(r.rows));

  const allDue = (): Promise<number> =>
    count(`SELECT count(*) AS n FROM product_date_syncs WHERE due_since IS NOT NULL`);

  it(
    `marks ${PRODUCTS} products × ${DAYS} dates at boot, then a manual daily run (202), in bounded batches, each its own transaction`,
    async () => {
      const app = await boot(PRODUCTS, MARK_LOG_SQL);
      await until(
        'every product-date to be marked due',
        async () => (await allDue()) === PRODUCTS * DAYS,
        SCALE_WAIT_MS,
        500,
      );
      let txs = await markTransactions();
      expect(txs.reduce((a, b) => a + b, 0)).toBe(PRODUCTS * DAYS);
      expect(Math.max(...txs)).toBeLessThanOrEqual(MARK_BATCH_PRODUCT_DATES);
      expect(txs.length).toBeGreaterThanOrEqual(
        Math.ceil((PRODUCTS * DAYS) / MARK_BATCH_PRODUCT_DATES),
      );

      // The refused call puts the key on hold: from then on nothing else uses the connection.
      await until('the partner to refuse the key', async () => sim.stats().total >= 1);
      await prisma().$executeRawUnsafe(`TRUNCATE mark_log`);
      const res = await request(app.baseUrl)
        .post('/api/v1/experience/sync/run')
        .set(auth)
        .send({ window: 'daily' });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ marked: PRODUCTS * DAILY_DAYS });
      expect(
        await count(
          `SELECT count(*) AS n FROM product_date_syncs WHERE due_since IS NOT NULL AND due_priority = 0`,
        ),
      ).toBe(PRODUCTS * DAILY_DAYS);
      txs = await markTransactions();
      expect(Math.max(...txs)).toBeLessThanOrEqual(MARK_BATCH_PRODUCT_DATES);
      expect(txs.length).toBeGreaterThanOrEqual(
        Math.ceil((PRODUCTS * DAILY_DAYS) / MARK_BATCH_PRODUCT_DATES),
      );
      expect(app.app.get(SchedulerService).isLeader()).toBe(true);
    },
    SCALE_TIMEOUT_MS,
  );

  it('retries a boot catch-up whose mark failed until every product-date is marked', async () => {
    const products = 200;
    await boot(products, FAIL_ONCE_SQL);
    await until(
      'the catch-up to be retried and every product-date marked due',
      async () =>
        (await count(
          `SELECT count(*) AS n FROM product_date_syncs WHERE due_since IS NOT NULL`,
        )) ===
        products * DAYS,
      30_000,
      200,
    );
    // The injected failure did happen: the trigger ran more than once.
    expect(await count(`SELECT last_value AS n FROM mark_fault`)).toBeGreaterThan(1);
  });

  it('a manual run whose mark fails answers 503 naming the cause and is recorded as failed; the next one is marked', async () => {
    const products = 200;
    const app = await boot(products, FAIL_ONCE_SQL, { SYNC_ON_BOOT: 'false' });
    const run = () =>
      request(app.baseUrl).post('/api/v1/experience/sync/run').set(auth).send({ window: 'daily' });
    const failed = await run();
    expect(failed.status).toBe(503);
    expect(failed.body.message).toMatch(
      /^Run \d+ was recorded but its product-dates could not be marked due \(database error \w+\); it is recorded as failed, try again$/,
    );
    const row = await prisma().syncRun.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(row).toMatchObject({ outcome: 'failed', trigger: 'manual' });
    expect(row.error).toMatch(/^could not mark the run's product-dates due: database error \w+$/);

    const again = await run();
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ marked: products * DAILY_DAYS });
  });
});
