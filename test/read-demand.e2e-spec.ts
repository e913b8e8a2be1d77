import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, todayIn } from '../src/inventory/calendar';
import { ReadDemandRepository } from '../src/inventory/learning/read-demand.repository';
import { addReads } from '../src/inventory/policy/learned-rates';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp } from './support/test-app';

const HALF_LIFE_S = 3600;

describe('read demand on the real PostgreSQL', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let other: PrismaService;
  let demand: ReadDemandRepository;

  beforeAll(async () => {
    db = await createTestDatabase('inv_read_demand');
    prisma = new PrismaService({ url: db.url, poolSize: 4, kind: 'postgresql' });
    other = new PrismaService({ url: db.url, poolSize: 4, kind: 'postgresql' });
    await prisma.$connect();
    await other.$connect();
    await prisma.product.createMany({ data: [14, 15].map((id) => ({ id })) });
    demand = new ReadDemandRepository(prisma);
  });

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await other?.onModuleDestroy();
    await db?.drop();
  });

  const row = async (productId: number, date: string) =>
    (await demand.all()).find((r) => r.productId === productId && r.date === date);

  it('adds reads to a count decayed from its last update (addReads), and drops unknown products', async () => {
    await demand.add(
      [
        { productId: 14, date: '2026-12-08', reads: 5 },
        { productId: 404, date: '2026-12-08', reads: 7 },
      ],
      HALF_LIFE_S,
    );
    const first = (await row(14, '2026-12-08'))!;
    expect(first.reads).toBe(5);
    // Half an hour of decay, as if the count had been written then.
    const earlier = new Date(first.updatedAt.getTime() - 1_800_000);
    await prisma.readDemand.updateMany({ data: { updatedAt: earlier } });
    await demand.add([{ productId: 14, date: '2026-12-08', reads: 2 }], HALF_LIFE_S);
    const second = (await row(14, '2026-12-08'))!;
    const elapsed = (second.updatedAt.getTime() - earlier.getTime()) / 1000;
    expect(elapsed).toBeGreaterThanOrEqual(1800);
    // The statement decays by now() (µs), the row keeps ms: within a millisecond of decay.
    expect(second.reads).toBeCloseTo(addReads(5, elapsed, 2, HALF_LIFE_S), 6);
    expect(second.reads).toBeLessThan(5 * Math.SQRT1_2 + 2 + 1e-9);
    expect((await demand.all()).map((r) => r.productId)).toEqual([14]);
  });

  it('loses no read when instances flush the same rows at once', async () => {
    const dates = ['2026-12-10', '2026-12-11', '2026-12-12'];
    const counts = dates.flatMap((date) =>
      [14, 15].map((productId) => ({ productId, date, reads: 1 })),
    );
    const repositories = [demand, new ReadDemandRepository(other)];
    // No decay (half-life 0), so the totals are exact: 2 instances × 20 flushes of each row.
    await Promise.all(
      repositories.flatMap((r) => Array.from({ length: 20 }, () => r.add(counts, 0))),
    );
    for (const date of dates) {
      expect((await row(14, date))!.reads).toBe(40);
      expect((await row(15, date))!.reads).toBe(40);
    }
  });

  it('deletes the counts of past dates', async () => {
    expect(await demand.deleteBefore('2026-12-10')).toBe(1);
    expect(await row(14, '2026-12-08')).toBeUndefined();
  });
});

describe('read demand counted by the service', () => {
  it('counts every slots read before the cache, not the dates list, and flushes before the database closes', async () => {
    const db = await createTestDatabase('inv_read_counted');
    try {
      const t = await startTestApp(
        {
          DATABASE_URL: db.url,
          PARTNER_API_URL: 'http://127.0.0.1:9',
          PARTNER_API_KEY: 'test-key',
          SYNC_ON_BOOT: 'false',
          SYNC_PRODUCT_IDS: '14,15',
          // Never within the test: only the shutdown flush writes.
          READ_DEMAND_FLUSH_MS: '600000',
          SYNC_CRON_DAILY: '0 0 1 1 *',
          SYNC_CRON_FOUR_HOURLY: '0 0 1 1 *',
          SYNC_CRON_QUARTER_HOURLY: '0 0 1 1 *',
          SYNC_CRON_EXTENDED: '0 0 1 1 *',
        },
        'production',
      );
      const api = request(t.baseUrl);
      const date = addDays(todayIn('UTC'), 2);
      // The first read misses the cache, the next two hit it: three reads all the same.
      for (let i = 0; i < 3; i++) {
        await api.get(`/api/v1/experience/14/slots?date=${date}`).expect(200);
      }
      await api.get(`/api/v1/experience/15?date=${date}`).expect(200);
      await api.get('/api/v1/experience/15/dates').expect(200);
      await api.get(`/api/v1/experience/16/slots?date=${date}`).expect(404);
      await api.get(`/api/v1/experience/15/slots?date=${addDays(todayIn('UTC'), -1)}`).expect(200);
      await t.close();

      const prisma = new PrismaService({ url: db.url, poolSize: 1, kind: 'postgresql' });
      try {
        const rows = await new ReadDemandRepository(prisma).all();
        expect(rows.map((r) => [r.productId, r.date, r.reads])).toEqual([
          [14, date, 3],
          [15, date, 1],
        ]);
      } finally {
        await prisma.onModuleDestroy();
      }
    } finally {
      await db.drop();
    }
  });
});
