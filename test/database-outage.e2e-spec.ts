import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { addDays, todayIn } from '../src/inventory/calendar';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import {
  createMigratedDatabase,
  createPrivatePostgres,
  type PrivatePostgres,
} from './support/private-postgres';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import { until } from './support/until';
import { NEVER_CRON } from './support/default-crons';

const API_KEY = 'outage-e2e-partner-key-0123456789';
const ADMIN_TOKEN = 'outage-e2e-admin-token-0123456789';
/** The bar: a database stopped for 40 s. */
const OUTAGE_MS = 40_000;
const POLL_MS = 400;
const ARTIFACTS = path.resolve(__dirname, '..', 'test-artifacts');

/** Anything that would tell a client where the database is or which driver talks to it. */
const LEAKS = /prisma|invocation|ECONNREFUSED|can't reach|127\.0\.0\.1|localhost|\bport\b/i;

interface Answer {
  path: string;
  /** ms since the outage began. */
  at: number;
  status: number;
  headers: Record<string, string>;
  text: string;
}

async function get(baseUrl: string, path: string, since = Date.now()): Promise<Answer> {
  const res = await request(baseUrl).get(path).buffer(true);
  return {
    path,
    at: Date.now() - since,
    status: res.status,
    headers: res.headers,
    text: res.text,
  };
}

async function lastSuccess(url: string, productId: number, date: string): Promise<Date | null> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ last_success_at: Date | null }>(
      'SELECT last_success_at FROM product_date_syncs WHERE product_id = $1 AND date = $2::date',
      [productId, date],
    );
    return r.rows[0]?.last_success_at ?? null;
  } finally {
    await c.end();
  }
}

/** Warn and error lines the service wrote (pino JSON, one object a line). */
function noisyLines(output: string): string[] {
  return output.split('\n').filter((l) => /"level":"(warn|error|fatal)"/.test(l));
}

describe('reads through a 40 s database outage (a PostgreSQL of the test’s own)', () => {
  let pg: PrivatePostgres;
  let sim: PartnerSimulator;
  let svc: ServiceProcess | undefined;
  let dbUrl: string;

  beforeAll(async () => {
    pg = await createPrivatePostgres();
    pg.start();
    dbUrl = await createMigratedDatabase(pg, 'inventory');
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
    const partnerUrl = await sim.start(0);
    svc = await startServiceProcess(
      {
        DATABASE_URL: dbUrl,
        PARTNER_API_URL: partnerUrl,
        PARTNER_API_KEY: API_KEY,
        PARTNER_RATE_LIMIT: '100',
        PARTNER_RATE_WINDOW_MS: '1000',
        ADMIN_TOKEN,
        SYNC_PRODUCT_IDS: '14,15',
        SYNC_ON_BOOT: 'false',
        // Today every 5 s, so "syncing resumes" is seen quickly; the other windows never.
        SYNC_CRON_QUARTER_HOURLY: '*/5 * * * * *',
        SYNC_CRON_DAILY: NEVER_CRON,
        SYNC_CRON_FOUR_HOURLY: NEVER_CRON,
        SYNC_CRON_EXTENDED: NEVER_CRON,
        // Far shorter than the outage: a served answer must come from the stale copies.
        CACHE_TTL_MS: '2000',
        LOG_LEVEL: 'info',
      },
      [],
    );
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    await sim?.stop();
    pg?.destroy();
  });

  it('answers 200 stale, 503 with Retry-After or degraded status, never 500 or Prisma text, and resumes syncing', async () => {
    const base = svc!.baseUrl;
    const today = todayIn('UTC', new Date());
    const unread = addDays(today, 20); // never synced nor read: nothing is known about it
    await until(
      'today of both products to be synced',
      async () =>
        (await lastSuccess(dbUrl, 14, today)) !== null &&
        (await lastSuccess(dbUrl, 15, today)) !== null,
      60_000,
      250,
    );

    const known = [
      `/api/v1/experience/14/slots?date=${today}`,
      `/api/v1/experience/15?date=${today}`,
      `/api/v1/experience/14/dates`,
    ];
    const before = new Map<string, Answer>();
    // Status and freshness as the operator's page reads them before the outage.
    expect((await get(base, '/api/v1/experience/sync/freshness')).status).toBe(200);
    for (const path of known) {
      const a = await get(base, path);
      expect(a.status).toBe(200);
      expect(a.headers['warning']).toBeUndefined();
      before.set(path, a);
    }
    const unknownPaths = [
      `/api/v1/experience/14/slots?date=${unread}`,
      `/api/v1/experience/15/dates`,
    ];
    const open = [
      '/api/v1/experience/sync/status',
      '/api/v1/experience/sync/freshness',
      '/health/ready',
      '/health',
      '/metrics',
    ];

    const partnerCallsBefore = sim.stats().total;
    const logBefore = svc!.output().length;
    pg.stop();
    const outageStarted = Date.now();
    const answers: Answer[] = [];
    while (Date.now() - outageStarted < OUTAGE_MS) {
      for (const path of [...known, ...unknownPaths, ...open]) {
        answers.push(await get(base, path, outageStarted));
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const partnerCallsDuringOutage = sim.stats().total - partnerCallsBefore;
    const outageLog = svc!.output().slice(logBefore);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'database-outage.log'), outageLog);
    // What the outage looked like from outside, for the figures in the README and issue notes.
    const byPath: Record<string, Record<number, number>> = {};
    for (const a of answers) {
      byPath[a.path] ??= {};
      byPath[a.path][a.status] = (byPath[a.path][a.status] ?? 0) + 1;
    }
    writeFileSync(
      path.join(ARTIFACTS, 'database-outage.json'),
      JSON.stringify(
        {
          answers: answers.length,
          byPath,
          partnerCallsDuringOutage,
          warnOrErrorLines: noisyLines(outageLog).length,
        },
        null,
        2,
      ),
    );
    pg.start();
    const outageEnded = new Date();

    expect(answers.length).toBeGreaterThan(100);
    expect(answers.filter((a) => a.status >= 500 && a.status !== 503)).toEqual([]);
    for (const a of answers)
      expect({ path: a.path, text: a.text }).not.toEqual(
        expect.objectContaining({ text: expect.stringMatching(LEAKS) }),
      );

    for (const path of known) {
      const served = answers.filter((a) => a.path === path);
      expect(served.map((a) => a.status)).toEqual(served.map(() => 200));
      for (const a of served) {
        expect(a.text).toBe(before.get(path)!.text);
        // Within CACHE_TTL_MS of the last load an answer is still fresh; after that, stale-marked.
        if (a.at > 3000) {
          expect(a.headers['warning']).toBe('110 - "Response is Stale"');
          expect(Number(a.headers['age'])).toBeGreaterThanOrEqual(2);
        }
      }
      // Long after CACHE_TTL_MS: the age keeps counting from the last good load.
      expect(Number(served[served.length - 1].headers['age'])).toBeGreaterThanOrEqual(30);
    }
    for (const path of unknownPaths) {
      const served = answers.filter((a) => a.path === path);
      for (const a of served) {
        expect(a.status).toBe(503);
        expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
        expect(JSON.parse(a.text)).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'database unavailable',
        });
      }
    }
    for (const path of ['/api/v1/experience/sync/status', '/api/v1/experience/sync/freshness']) {
      const served = answers.filter((a) => a.path === path);
      // The first poll may still come before anything noticed the outage.
      const late = served.slice(Math.floor(served.length / 4));
      for (const a of late) {
        expect(a.status).toBe(200);
        expect(JSON.parse(a.text)).toMatchObject({ degraded: true });
      }
    }
    for (const a of answers.filter((x) => x.path.startsWith('/health'))) {
      expect(a.status).toBe(503);
    }
    for (const a of answers.filter((x) => x.path === '/metrics')) expect(a.status).toBe(200);

    // The sync took no partner turns it could not store (at most the calls already in flight).
    expect(partnerCallsDuringOutage).toBeLessThanOrEqual(2);
    // One line when the outage starts and a summary now and then, not one per failure.
    expect(noisyLines(outageLog).length).toBeLessThanOrEqual(12);

    // Syncing resumes by itself, and reads are fresh again.
    await until(
      'a sync of today after the outage',
      async () => ((await lastSuccess(dbUrl, 14, today)) ?? new Date(0)) > outageEnded,
      60_000,
      500,
    );
    await until(
      'fresh answers again',
      async () => {
        const a = await get(base, known[0]);
        return a.status === 200 && a.headers['warning'] === undefined;
      },
      30_000,
      250,
    );
    const status = await get(base, '/api/v1/experience/sync/status');
    expect(JSON.parse(status.text)).toMatchObject({ degraded: false });
    expect((await get(base, '/health/ready')).status).toBe(200);
  }, 240_000);
});
