import request from 'supertest';
import { ChangeFeedPublisher } from '../src/changes/feed/change-feed.publisher';
import { PrismaService } from '../src/core/prisma.service';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { QUIET_CRONS } from './support/default-crons';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';
import { answer } from './support/webhook-receiver';

const DATE = '2026-12-20';

describe('GET /api/v1/changes: the pull feed over HTTP', () => {
  let db: TestDatabase;
  let t: TestApp;
  let product: number;

  beforeAll(async () => {
    db = await createTestDatabase('inv_feed');
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false', ...QUIET_CRONS });
    product = t.config.sync.productIds[0];
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it("serves the store's changes in order, paged, with the next cursor", async () => {
    const store = t.app.get(ProductDateStore);
    for (let remaining = 5; remaining >= 0; remaining--) {
      await store.store(product, DATE, [...answer(DATE, remaining, 'A'), ...answer(DATE, 3, 'B')]);
    }
    const all = await until('six events published', async () => {
      const r = await request(t.baseUrl).get('/api/v1/changes?limit=1000');
      return r.status === 200 && r.body.events.length === 6 ? r.body : null;
    });
    expect(
      all.events.map(
        (e: { data: { slots: { seatsChanged: string[] } } }) => e.data.slots.seatsChanged,
      ),
    ).toEqual([[], ['A'], ['A'], ['A'], ['A'], ['A']]);
    expect(all.events[5].data.soldOut).toEqual(['A']);
    expect(all.nextCursor).toBe(all.head);

    const page1 = await request(t.baseUrl).get('/api/v1/changes?limit=4');
    expect(page1.status).toBe(200);
    expect(page1.body.events).toHaveLength(4);
    const page2 = await request(t.baseUrl).get(
      `/api/v1/changes?limit=4&after=${page1.body.nextCursor}`,
    );
    expect(page2.body.events.map((e: { cursor: string }) => e.cursor)).toEqual(
      all.events.slice(4).map((e: { cursor: string }) => e.cursor),
    );
    const other = await request(t.baseUrl).get(`/api/v1/changes?productId=${product + 1}`);
    expect(other.body).toEqual({ events: [], nextCursor: all.head, head: all.head });
  });

  it.each([
    ['after=abc', /after must be a cursor/],
    ['limit=0', /limit must be an integer between 1 and 1000/],
    ['productId=-3', /productId must be a positive integer/],
  ])('answers ?%s with 400 naming the problem', async (q, message) => {
    const r = await request(t.baseUrl).get(`/api/v1/changes?${q}`);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(message);
  });

  it('answers 410 Gone with what to do when the cursor is older than the retention', async () => {
    const prisma = t.app.get(PrismaService);
    await prisma.$executeRaw`UPDATE change_events SET created_at = now() - interval '8 days'`;
    const pruned = await t.app.get(ChangeFeedPublisher).pruneOnce();
    expect(pruned).toBe(6);
    const r = await request(t.baseUrl).get('/api/v1/changes?after=1');
    expect(r.status).toBe(410);
    expect(r.body.message).toMatch(
      /older than the change feed's retention.*resync from the slots API/,
    );
    const fromHead = await request(t.baseUrl).get('/api/v1/changes?after=6');
    expect(fromHead.status).toBe(200);
    expect(fromHead.body.events).toEqual([]);
  });
});
