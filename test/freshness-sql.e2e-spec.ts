import { Client } from 'pg';
import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, todayIn } from '../src/inventory/calendar';
import { oldestAges } from '../src/inventory/control/sync-status.service';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import {
  buildFreshnessMatrix,
  type ProductDateSyncRow,
} from '../src/inventory/freshness/freshness-matrix';
import { InventoryEvents } from '../src/inventory/inventory-events';
import {
  buildSyncPolicy,
  targetSecondsForDay,
  type HorizonName,
} from '../src/inventory/policy/sync-policy';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { DEFAULT_CRONS, QUIET_CRONS } from './support/default-crons';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const TODAY = '2030-03-10';
const NOW = new Date('2030-03-10T12:00:00.000Z');
const POLICY = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW);
const DAYS = POLICY.lastDay + 1;
const TARGETS = Array.from({ length: DAYS }, (_, day) => targetSecondsForDay(POLICY, day));
/** An instant `seconds` before NOW (to the millisecond, as the columns keep it). */
const ago = (seconds: number): string =>
  new Date(NOW.getTime() - Math.round(seconds * 1000)).toISOString();

interface Cell {
  day: number;
  success?: string | null;
  attempt?: string | null;
  outcome?: string | null;
  error?: string | null;
  slots?: number;
}

/**
 * One product per case (its id is its place + 1), each holding the cells named; every other
 * cell of it has no row. The SQL must give what the per-row functions give for the same rows.
 */
const CASES: Array<[string, Cell[]]> = [
  ['no row at all', []],
  [
    'fresh, due and stale today around the 15-minute target',
    [
      { day: 0, success: ago(900), attempt: ago(900), outcome: 'changed', slots: 9 },
      { day: 1, success: ago(4 * 3600 + 0.001), attempt: ago(5 * 3600), outcome: 'ok' },
      { day: 2, success: ago(8 * 3600 + 1), outcome: 'unchanged', slots: 3 },
    ],
  ],
  [
    'exactly one and two targets old, and a fraction over',
    [
      { day: 0, success: ago(1800), attempt: ago(1800), outcome: 'ok', slots: 1 },
      { day: 7, success: ago(86_400), outcome: 'ok' },
      { day: 8, success: ago(86_400.001), outcome: 'ok' },
      { day: 30, success: ago(2 * 7 * 86_400 + 0.5), outcome: 'ok' },
    ],
  ],
  [
    'failed after a success, by outcome and by error without outcome',
    [
      {
        day: 0,
        success: ago(600),
        attempt: ago(30),
        outcome: 'server_error',
        error: 'Partner answered 503',
        slots: 4,
      },
      { day: 1, success: ago(600), attempt: ago(60.499), outcome: null, error: 'timeout' },
      { day: 2, success: null, attempt: ago(10), outcome: 'invalid_payload', error: 'bad json' },
    ],
  ],
  [
    'not failed: outcome case, attempt not after success, empty error, no attempt',
    [
      { day: 0, success: ago(100), attempt: ago(50), outcome: 'Stored', error: 'old' },
      { day: 1, success: ago(100.001), attempt: ago(100.001), outcome: 'server_error' },
      { day: 2, success: null, attempt: null, outcome: null, error: '' },
      { day: 3, success: null, attempt: ago(5), outcome: 'RUNNING' },
      { day: 4, success: ago(50), attempt: ago(20), outcome: null, error: '' },
    ],
  ],
  [
    'ages round half up and a success in the future counts 0',
    [
      { day: 0, success: ago(1.5), attempt: ago(2.5), outcome: 'ok' },
      { day: 1, success: ago(-3), attempt: ago(-3), outcome: 'ok', slots: 2 },
      { day: 59, success: ago(0.499), outcome: 'ok', slots: 7 },
    ],
  ],
  [
    'rows outside today .. +59 are not cells',
    [
      { day: -1, success: ago(10), attempt: ago(5), outcome: 'server_error', error: 'x' },
      { day: 60, success: ago(10), outcome: 'ok' },
      { day: 3, success: ago(20), outcome: 'ok', slots: 5 },
    ],
  ],
  // Every date synced: the horizons' oldest ages are numbers, not null.
  [
    'every date synced, the oldest of each horizon differs',
    Array.from({ length: DAYS }, (_, day) => ({
      day,
      success: ago(60 + day * 37 + (day % 7) * 0.3),
      attempt: ago(60 + day * 37),
      outcome: 'unchanged',
      slots: day,
    })),
  ],
  [
    'every date synced long ago but one failed since',
    Array.from({ length: DAYS }, (_, day) => ({
      day,
      success: ago(20 * 86_400 - day),
      attempt: day === 45 ? ago(1) : ago(20 * 86_400 - day),
      outcome: day === 45 ? 'rate_limited' : 'ok',
      error: day === 45 ? 'Partner answered 429' : null,
    })),
  ],
];
const PRODUCT_IDS = CASES.map((_, i) => i + 1);

/** The case's rows as the per-row functions take them (times cut to ms, as a Date holds them). */
function referenceRows(): ProductDateSyncRow[] {
  const at = (t: string | null | undefined): Date | null => (t ? new Date(t) : null);
  return CASES.flatMap(([, cells], i) =>
    cells.map((c) => ({
      productId: i + 1,
      date: addDays(TODAY, c.day),
      lastSuccessAt: at(c.success),
      lastAttemptAt: at(c.attempt),
      lastOutcome: c.outcome ?? null,
      lastError: c.error ?? null,
      slotCount: c.slots ?? 0,
    })),
  );
}

async function insertCases(url: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('INSERT INTO products (id) SELECT unnest($1::int[])', [PRODUCT_IDS]);
    for (const [i, [, cells]] of CASES.entries()) {
      for (const cell of cells) {
        await c.query(
          `INSERT INTO product_date_syncs
             (product_id, date, last_success_at, last_attempt_at, last_outcome, last_error, slot_count)
           VALUES ($1, $2::date + $3::int, $4, $5, $6, $7, $8)`,
          [
            i + 1,
            TODAY,
            cell.day,
            cell.success ?? null,
            cell.attempt ?? null,
            cell.outcome ?? null,
            cell.error ?? null,
            cell.slots ?? 0,
          ],
        );
      }
    }
  } finally {
    await c.end();
  }
}

describe('freshness in SQL gives the numbers of the per-row functions (fixed rows)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let repo: DueListRepository;
  const reference = buildFreshnessMatrix({
    policy: POLICY,
    productIds: PRODUCT_IDS,
    rows: referenceRows(),
    today: TODAY,
    timeZone: 'UTC',
    now: NOW,
  });

  beforeAll(async () => {
    db = await createTestDatabase('inv_freshsql');
    await insertCases(db.url);
    prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
    await prisma.onModuleInit();
    repo = new DueListRepository(prisma);
  });

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  it.each(CASES.map(([name], i) => [name, i + 1] as const))(
    'heatmap row: %s',
    async (_name, productId) => {
      const [row] = await repo.freshnessRows({
        productIds: [productId],
        today: TODAY,
        targets: TARGETS,
        now: NOW,
      });
      expect(row).toEqual(reference.products[productId - 1]);
    },
  );

  it('reads the aggregates over every product-date without parallel workers', async () => {
    const setting = () =>
      prisma.$queryRaw<Array<{ v: string }>>`
        SELECT current_setting('max_parallel_workers_per_gather') AS v`;
    expect((await setting())[0].v).not.toBe('0');
    expect((await prisma.withoutParallelWorkers(setting()))[0].v).toBe('0');
    // SET LOCAL: the connection goes back to the pool with its own setting.
    expect((await setting())[0].v).not.toBe('0');
    const serial = jest.spyOn(prisma, 'withoutParallelWorkers');
    try {
      const input = { productIds: PRODUCT_IDS, today: TODAY, targets: TARGETS, now: NOW };
      await repo.freshnessRowsJson(input);
      await repo.freshnessCounts(input);
      await repo.horizonFreshness({ ...input, policy: POLICY, worst: 1 });
      await repo.rangeStats(PRODUCT_IDS, TODAY, POLICY.horizons);
      expect(serial).toHaveBeenCalledTimes(4);
    } finally {
      serial.mockRestore();
    }
  });

  it('answers the rows in the order of the ids asked for, a product without rows included', async () => {
    const ids = [...PRODUCT_IDS].reverse();
    const rows = await repo.freshnessRows({
      productIds: ids,
      today: TODAY,
      targets: TARGETS,
      now: NOW,
    });
    expect(rows.map((r) => r.productId)).toEqual(ids);
  });

  it('counts the cells per state over every product', async () => {
    const counts = await repo.freshnessCounts({
      productIds: PRODUCT_IDS,
      today: TODAY,
      targets: TARGETS,
      now: NOW,
    });
    expect(counts).toEqual(reference.counts);
  });

  it.each(CASES.map(([name], i) => [name, i + 1] as const))(
    'oldest age per horizon: %s',
    async (_name, productId) => {
      const { worst } = await repo.horizonFreshness({
        productIds: [productId],
        today: TODAY,
        policy: POLICY,
        now: NOW,
        worst: 1,
      });
      const successes = new Map(
        referenceRows()
          .filter((r) => r.productId === productId && r.lastSuccessAt)
          .map((r) => [r.date, r.lastSuccessAt!]),
      );
      expect(worst).toEqual([
        { productId, oldestAgeSeconds: oldestAges(POLICY, TODAY, NOW, successes) },
      ]);
    },
  );

  it('lists the worst products relative to their targets first and sums up every horizon', async () => {
    const { worst, byHorizon } = await repo.horizonFreshness({
      productIds: PRODUCT_IDS,
      today: TODAY,
      policy: POLICY,
      now: NOW,
      worst: 3,
    });
    const rows = referenceRows();
    const ages = PRODUCT_IDS.map((productId) => ({
      productId,
      oldestAgeSeconds: oldestAges(
        POLICY,
        TODAY,
        NOW,
        new Map(
          rows
            .filter((r) => r.productId === productId && r.lastSuccessAt)
            .map((r) => [r.date, r.lastSuccessAt!]),
        ),
      ),
    }));
    const score = (a: Record<HorizonName, number | null>): number =>
      Math.max(
        ...POLICY.horizons.map((h) =>
          a[h.name] === null ? Infinity : a[h.name]! / Math.max(1, h.targetSeconds),
        ),
      );
    const expectedWorst = [...ages]
      .sort(
        (a, b) =>
          score(b.oldestAgeSeconds) - score(a.oldestAgeSeconds) || a.productId - b.productId,
      )
      .slice(0, 3);
    expect(worst).toEqual(expectedWorst);

    for (const h of POLICY.horizons) {
      const inHorizon = rows.filter((r) => {
        const day = Math.round((Date.parse(r.date) - Date.parse(TODAY)) / 86_400_000);
        return r.lastSuccessAt && day >= h.fromDay && day <= h.toDay;
      });
      const oldest = Math.min(...inHorizon.map((r) => r.lastSuccessAt!.getTime()));
      const overTarget = new Set(
        inHorizon
          .filter((r) => NOW.getTime() - r.lastSuccessAt!.getTime() > h.targetSeconds * 1000)
          .map((r) => r.productId),
      );
      expect(byHorizon[h.name]).toEqual({
        oldestAgeSeconds: Math.max(0, Math.round((NOW.getTime() - oldest) / 1000)),
        productsNeverSynced: ages.filter((a) => a.oldestAgeSeconds[h.name] === null).length,
        productsOverTarget: overTarget.size,
      });
    }
  });
});

describe('status and freshness at 3,000 products × 60 dates', () => {
  const PRODUCTS = 3000;
  const productIds = Array.from({ length: PRODUCTS }, (_, i) => 1000 + i);
  let db: TestDatabase;
  let t: TestApp;
  let today: string;

  beforeAll(async () => {
    db = await createTestDatabase('inv_fresh3k');
    today = todayIn('UTC');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      // Every date synced at some age, one in nine failed since, one in eleven never synced.
      await c.query('INSERT INTO products (id) SELECT generate_series(1000, 1000 + $1::int - 1)', [
        PRODUCTS,
      ]);
      await c.query(
        `WITH cell AS (
           SELECT p, d FROM generate_series(1000, 1000 + $2::int - 1) p, generate_series(0, 59) d
         )
         INSERT INTO product_date_syncs
           (product_id, date, last_attempt_at, last_success_at, last_outcome, last_error, slot_count)
         SELECT p, $1::date + d,
                now() - ((p + d) % 9) * interval '1 minute' + CASE WHEN (p + d) % 9 = 0 THEN interval '30 seconds' ELSE interval '0' END,
                now() - ((p * 7 + d * 13) % 5000) * interval '1 minute',
                CASE WHEN (p + d) % 9 = 0 THEN 'server_error' ELSE 'ok' END,
                CASE WHEN (p + d) % 9 = 0 THEN 'Partner answered 503' END,
                (p + d) % 12
           FROM cell WHERE (p * 3 + d) % 11 <> 0`,
        [today, PRODUCTS],
      );
    } finally {
      await c.end();
    }
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_PRODUCT_IDS: productIds.join(','),
      SYNC_TIMEZONE: 'UTC',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
    });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const get = (path: string) => request(t.baseUrl).get(`/api/v1/experience/sync/${path}`);

  it('keeps the status body small: the 20 worst products and a summary per horizon', async () => {
    const res = await get('status').expect(200);
    expect(res.text.length).toBeLessThan(20_000);
    const s = res.body as SyncStatus;
    expect(s.freshness).toHaveLength(20);
    expect(s.freshnessSummary.products).toBe(PRODUCTS);
    expect(s.freshnessSummary.listed).toBe(20);
    // One date in eleven is never synced: every product has one in the 30-day horizons.
    expect(s.freshnessSummary.byHorizon.month.productsNeverSynced).toBe(PRODUCTS);
    expect(s.freshness.every((f) => f.oldestAgeSeconds.month === null)).toBe(true);
  });

  it('answers freshness a page at a time, counting every cell of every product', async () => {
    const first = await get('freshness').expect(200);
    // 500 of the 3,000 rows (every row here has ages of 5-6 digits and an error a few dates).
    expect(first.text.length).toBeLessThan(600_000);
    expect(first.body.page).toEqual({ offset: 0, limit: 500, total: PRODUCTS });
    expect(first.body.products.map((p: { productId: number }) => p.productId)).toEqual(
      productIds.slice(0, 500),
    );
    const counts = first.body.counts as Record<string, number>;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(PRODUCTS * 60);
    expect(counts.never).toBe(
      productIds.reduce(
        (n, p) =>
          n + Array.from({ length: 60 }, (_, d) => d).filter((d) => (p * 3 + d) % 11 === 0).length,
        0,
      ),
    );

    const last = await get('freshness?offset=2800&limit=1000').expect(200);
    expect(last.body.page).toEqual({ offset: 2800, limit: 1000, total: PRODUCTS });
    expect(last.body.products).toHaveLength(200);
    expect(last.body.products[0].productId).toBe(productIds[2800]);

    const one = await get(`freshness?productId=${productIds[2801]}`).expect(200);
    // The same row (its ages may be a second apart: two readings).
    const { productId, states, slots } = last.body.products[1];
    expect(one.body.products).toEqual([expect.objectContaining({ productId, states, slots })]);
  });

  it.each([
    ['limit=0', 400, /limit must be a whole number from 1 to 1000/],
    ['limit=1001', 400, /limit must be a whole number from 1 to 1000/],
    ['offset=-1', 400, /offset must be a whole number from 0/],
    ['offset=abc', 400, /offset must be a whole number from 0/],
    ['productId=0', 400, /productId must be a positive integer/],
    ['productId=999999', 404, /product 999999 is not one of the products/],
  ])('answers freshness?%s with %i', async (query, code, message) => {
    const res = await get(`freshness?${query}`).expect(code);
    expect(res.body.message).toMatch(message);
  });

  it('computes the data ages once for concurrent status and freshness callers', async () => {
    const repo = t.app.get(DueListRepository);
    const ages = jest.spyOn(repo, 'horizonFreshness');
    const rows = jest.spyOn(repo, 'freshnessRowsJson');
    const counts = jest.spyOn(repo, 'freshnessCounts');
    try {
      // A finished run drops what was read before: the next callers read anew, once.
      t.app.get(InventoryEvents).emitSyncRunFinished({
        window: 'daily',
        outcome: 'ok',
        durationSeconds: 1,
        finishedAt: new Date(),
      });
      const answers = await Promise.all([
        ...Array.from({ length: 8 }, () => get('status')),
        ...Array.from({ length: 8 }, () => get('freshness')),
      ]);
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 16 }, () => 200));
      expect(ages).toHaveBeenCalledTimes(1);
      expect(rows).toHaveBeenCalledTimes(1);
      expect(counts).toHaveBeenCalledTimes(1);
      const statuses = answers.slice(0, 8).map((a) => JSON.stringify(a.body.freshnessSummary));
      expect(new Set(statuses).size).toBe(1);
      // The summary says when its one reading was made (it outlives a single status call).
      const asOf = (answers[0].body as SyncStatus).freshnessSummary.asOf;
      expect(Date.parse(asOf ?? '')).toBeLessThanOrEqual(Date.now());
    } finally {
      jest.restoreAllMocks();
    }
  });
});
