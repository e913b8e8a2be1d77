import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../src/core/database/embedded-postgres';
import { migrate } from '../src/core/database/migrator';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, toDbDate, todayIn } from '../src/inventory/calendar';
import {
  ValueRankRepository,
  type ValueRankInput,
} from '../src/inventory/due/value-rank.repository';
import { callValue, floorSeconds } from '../src/inventory/policy/call-value';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { DEFAULT_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const HOUR = 3_600_000;
const POLICY = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date(), 1);
const FLOORS = floorSeconds(POLICY);

/**
 * The value rule's statements (ValueRankRepository) on a real database: which product-dates each
 * list holds and in which order, what is left out, and that the value the SQL ranks by is
 * callValue of the rates it reports (the TypeScript of call-value.ts).
 */
function checkRank(open: () => Promise<PrismaService>, close: () => Promise<void>): void {
  let prisma: PrismaService;
  let repo: ValueRankRepository;
  const today = todayIn('UTC');
  const input = (extra: Partial<ValueRankInput> = {}): ValueRankInput => ({
    productIds: [14, 15, 16],
    from: today,
    policy: POLICY,
    floors: FLOORS,
    exclude: [],
    readHalfLifeSeconds: 6 * 3600,
    bucketMs: 60_000,
    ...extra,
  });
  const row = (
    productId: number,
    day: number,
    o: {
      agoMs?: number | null;
      due?: boolean;
      changed?: number;
      unchanged?: number;
      retryInMs?: number;
    } = {},
  ) => {
    const at = o.agoMs === null ? null : new Date(Date.now() - (o.agoMs ?? HOUR));
    return {
      productId,
      date: toDbDate(addDays(today, day)),
      lastSuccessAt: at,
      lastAttemptAt: at,
      dueSince: o.due ? new Date() : null,
      dueWindow: o.due ? 'daily' : null,
      nextAttemptAt: o.retryInMs ? new Date(Date.now() + o.retryInMs) : null,
      obsChanged: o.changed ?? 0,
      obsChangedSeconds: (o.changed ?? 0) * 3600,
      obsUnchanged: o.unchanged ?? 0,
      obsUnchangedSeconds: (o.unchanged ?? 0) * 3600,
    };
  };

  beforeAll(async () => {
    prisma = await open();
    repo = new ValueRankRepository(prisma);
    await prisma.product.createMany({ data: [14, 15, 16].map((id) => ({ id })) });
  });
  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await close();
  });
  beforeEach(async () => {
    await prisma.readDemand.deleteMany();
    await prisma.productSyncBackoff.deleteMany();
    await prisma.productDateSync.deleteMany();
  });

  const reads = (productId: number, day: number, count: number) => ({
    productId,
    date: toDbDate(addDays(today, day)),
    reads: count,
    updatedAt: new Date(),
  });

  it('ranks by value: read beats unread, changing beats calm, and the value is callValue of its rates', async () => {
    await prisma.productDateSync.createMany({
      data: [
        row(14, 3, { unchanged: 20 }),
        row(14, 4, { changed: 10, unchanged: 10 }),
        row(15, 3, { changed: 10, unchanged: 10 }), // changes, nobody reads it
      ],
    });
    await prisma.readDemand.createMany({ data: [reads(14, 3, 50), reads(14, 4, 50)] });
    const ranked = await repo.rank({ ...input(), forcedBuckets: 0, limit: 10 });
    expect(ranked.map((e) => [e.why, e.productId, e.date])).toEqual([
      ['value', 14, addDays(today, 4)],
      ['value', 14, addDays(today, 3)],
    ]);
    for (const e of ranked) {
      const v = callValue(e.readsPerHour / 3600, e.changeRatePerHour / 3600, HOUR / 1000);
      expect(e.value).toBeGreaterThan(0);
      // The age is the database's now() − last success: within a few seconds of an hour.
      expect(Math.abs(e.value - v) / v).toBeLessThan(0.01);
    }
    expect(ranked[0].changeRatePerHour).toBeGreaterThan(ranked[1].changeRatePerHour);
  });

  it('puts never-synced due dates in `never`, due ones with no value after the valued ones', async () => {
    await prisma.productDateSync.createMany({
      data: [
        row(14, 2, { agoMs: null, due: true }),
        row(14, 1, { agoMs: null, due: true }),
        row(15, 5, { due: true, agoMs: 10 * HOUR }),
        row(15, 6, { due: true, agoMs: 2 * HOUR }),
        row(16, 8, {}),
      ],
    });
    await prisma.readDemand.createMany({ data: [reads(16, 8, 10)] });
    const ranked = await repo.rank({ ...input(), forcedBuckets: 0, limit: 10 });
    const list = (why: string) =>
      ranked.filter((e) => e.why === why).map((e) => `${e.productId}:${e.date}`);
    // Longest shown first: the nearer never-synced date entered the range earlier.
    expect(list('never')).toEqual([`14:${addDays(today, 1)}`, `14:${addDays(today, 2)}`]);
    expect(list('value')).toEqual([`16:${addDays(today, 8)}`]);
    // No reads anywhere else: due rows by urgency (10 h over a 4 h target first; the
    // never-synced ones are there too, the plan takes each once).
    const due = list('due');
    expect(due.indexOf(`15:${addDays(today, 6)}`)).toBeGreaterThan(
      due.indexOf(`15:${addDays(today, 5)}`),
    );
    expect(due.indexOf(`15:${addDays(today, 5)}`)).toBeGreaterThanOrEqual(0);
    const order = ranked.map((e) => e.why);
    expect(order.indexOf('due')).toBeGreaterThan(order.lastIndexOf('value'));
  });

  it('counts the stored dates by their floor deadline and forces the late ones by urgency', async () => {
    // Today's floor is 15 min: one synced 20 min ago is past it, one 12 min ago is not yet; a
    // week date never synced (marked due) is long past its own.
    await prisma.productDateSync.createMany({
      data: [
        row(14, 0, { agoMs: 20 * 60_000 }),
        row(15, 0, { agoMs: 12 * 60_000 }),
        row(16, 3, { agoMs: null, due: true }),
      ],
    });
    const buckets = await repo.deadlineBuckets(input());
    // Only stored rows: a date nothing marked or synced is not the rule's to fetch.
    expect(buckets.reduce((a, b) => a + b.count, 0)).toBe(3);
    expect(buckets).toEqual([
      { bucket: 0, count: 2 },
      { bucket: 2, count: 1 },
    ]);
    const ranked = await repo.rank({ ...input(), forcedBuckets: 1, limit: 500 });
    const floor = ranked.filter((e) => e.why === 'floor');
    // Past or within the first minute: 14's today (late) and the never-synced date; 15's today
    // has 3 minutes left and stays out. By the urgency score: the never-synced date counts from
    // the midnight it entered the range, 56 days over a 4 h target, ahead of today 5 min late.
    expect(floor.map((e) => `${e.productId}:${e.date}`)).toEqual([
      `16:${addDays(today, 3)}`,
      `14:${today}`,
    ]);
    expect(floor.every((e) => e.deadline.getTime() < Date.now() + 60_000)).toBe(true);
  });

  it('leaves out backing-off products, dates waiting out a retry and the ones in flight', async () => {
    await prisma.productDateSync.createMany({
      data: [
        row(14, 1, { agoMs: null, due: true }),
        row(15, 1, { agoMs: null, due: true, retryInMs: 60_000 }),
        row(16, 1, { agoMs: null, due: true }),
        row(16, 2, { agoMs: null, due: true }),
      ],
    });
    await prisma.productSyncBackoff.create({
      data: { productId: 14, since: new Date(), consecutiveFailures: 3, lastFailureAt: new Date() },
    });
    const ranked = await repo.rank({
      ...input({ exclude: [`16:${addDays(today, 1)}`] }),
      forcedBuckets: 0,
      limit: 10,
    });
    expect(ranked.map((e) => `${e.why} ${e.productId}:${e.date}`)).toEqual([
      `never 16:${addDays(today, 2)}`,
      `due 16:${addDays(today, 2)}`,
    ]);
    const buckets = await repo.deadlineBuckets(input({ exclude: [`16:${addDays(today, 1)}`] }));
    // Product 14 backing off, 15's date waiting, 16's first date in flight: one left.
    expect(buckets.reduce((a, b) => a + b.count, 0)).toBe(1);
  });
}

describe('value rank on PostgreSQL', () => {
  let database: TestDatabase;
  checkRank(
    async () => {
      database = await createTestDatabase('inv_value_rank');
      const prisma = new PrismaService({ url: database.url, poolSize: 2, kind: 'postgresql' });
      await prisma.$connect();
      return prisma;
    },
    async () => database?.drop(),
  );
});

describe('value rank on PGlite', () => {
  let dir: string;
  let embedded: EmbeddedPostgres;
  checkRank(
    async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'value-rank-pglite-'));
      embedded = await EmbeddedPostgres.start(dir);
      await migrate(embedded.connectionString);
      const prisma = new PrismaService({
        url: embedded.connectionString,
        poolSize: 1,
        kind: 'embedded',
      });
      await prisma.$connect();
      return prisma;
    },
    async () => {
      await embedded?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  );
});
