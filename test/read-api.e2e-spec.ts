import http from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { Clock } from '../src/common/clock';
import { PrismaService } from '../src/core/prisma.service';
import { Prisma } from '../src/generated/prisma/client';
import { toDbDate } from '../src/inventory/calendar';
import { InventoryEvents } from '../src/inventory/inventory-events';
import { SlotAnswersRepository } from '../src/inventory/read/slot-answers.repository';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';

interface PaxSeed {
  type: string;
  position: number;
  final: string;
  original: string;
  isPrimary?: boolean;
  currency?: string;
  remaining?: number;
  name?: string;
  description?: string;
  discount?: string;
}

let slotSeq = 0;

/** Stores one slot with its pax straight through PrismaService (the sync engine is not needed). */
async function seedSlot(
  prisma: PrismaService,
  s: { productId: number; date: string; startTime: string; remaining?: number; pax: PaxSeed[] },
): Promise<void> {
  slotSeq += 1;
  await prisma.slot.create({
    data: {
      productId: s.productId,
      date: toDbDate(s.date),
      startTime: s.startTime,
      endTime: s.startTime,
      providerSlotId: `p${s.productId}_${s.date}T${s.startTime}_${slotSeq}`,
      variantId: 32,
      remaining: s.remaining ?? 2000,
      currencyCode: 'SGD',
      pax: {
        create: s.pax.map((p) => ({
          type: p.type,
          position: p.position,
          name: p.name ?? p.type.split('_')[0],
          description: p.description ?? `${p.type} description`,
          min: 0,
          max: 20,
          remaining: p.remaining ?? 10,
          isPrimary: p.isPrimary ?? false,
          finalPrice: new Prisma.Decimal(p.final),
          originalPrice: new Prisma.Decimal(p.original),
          discount: new Prisma.Decimal(p.discount ?? '100'),
          currencyCode: p.currency ?? 'SGD',
        })),
      },
    },
  });
}

/** A raw GET (node:http sends the path byte for byte, including malformed %-escapes). */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method: 'GET', agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ADULT = { type: 'ADULT_12~99', position: 0, final: '212.14', original: '312.14' };
const CHILD = { type: 'CHILD_3~11', position: 1, final: '43', original: '143' };

describe('read API: slots and dates', () => {
  let db: TestDatabase;
  let t: TestApp;
  let prisma: PrismaService;
  let api: ReturnType<typeof request>;

  beforeAll(async () => {
    db = await createTestDatabase('inv_read');
    // Production mode against an unreachable partner with yearly crons: nothing but this suite
    // writes inventory, so every stored row is one the tests put there.
    t = await startTestApp(
      {
        DATABASE_URL: db.url,
        PARTNER_API_URL: 'http://127.0.0.1:9',
        PARTNER_API_KEY: 'test-key',
        SYNC_ON_BOOT: 'false',
        SYNC_PRODUCT_IDS: '14,15,16,17,18,999999999',
        SYNC_TIMEZONE: 'Asia/Kolkata',
        SYNC_CRON_DAILY: '0 0 1 1 *',
        SYNC_CRON_FOUR_HOURLY: '0 0 1 1 *',
        SYNC_CRON_QUARTER_HOURLY: '0 0 1 1 *',
        SYNC_CRON_EXTENDED: '0 0 1 1 *',
      },
      'production',
    );
    prisma = t.app.get(PrismaService);
    api = request(t.baseUrl);
    // 20:00 UTC on March 31st is already April 1st in Kolkata.
    jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date('2025-03-31T20:00:00Z'));
    // The service may already have registered its configured products at boot.
    await prisma.product.createMany({
      data: [14, 15, 16, 17, 18, 999999999].map((id) => ({ id })),
      skipDuplicates: true,
    });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  /** Renders and stores a product-date's answer as a sync's store does, and announces it. */
  async function storeAnswer(productId: number, date: string): Promise<void> {
    const answers = t.app.get(SlotAnswersRepository);
    await prisma.$transaction((tx) => answers.storeInTransaction(tx, productId, date, true));
    t.app.get(InventoryEvents).emitProductDateChanged({ productId, date });
  }

  describe('slots', () => {
    beforeAll(async () => {
      // Inserted out of order: the API orders by start time, and pax by the partner's position.
      await seedSlot(prisma, {
        productId: 14,
        date: '2025-04-03',
        startTime: '05:00',
        remaining: 7,
        pax: [CHILD, { ...ADULT, isPrimary: true, remaining: 1000 }],
      });
      await seedSlot(prisma, {
        productId: 14,
        date: '2025-04-03',
        startTime: '04:30',
        pax: [CHILD, { ...ADULT, isPrimary: true, remaining: 1000 }],
      });
      await seedSlot(prisma, {
        productId: 14,
        date: '2025-04-04',
        startTime: '04:00',
        pax: [ADULT],
      });
    });

    it('answers Slot[] in the assignment shape, by start time, with exact decimal prices', async () => {
      const res = await api.get('/api/v1/experience/14/slots?date=2025-04-03').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const adult = {
        type: 'ADULT_12~99',
        name: 'ADULT',
        description: 'ADULT_12~99 description',
        price: { finalPrice: 212.14, originalPrice: 312.14, currencyCode: 'SGD', discount: 100 },
        min: 0,
        max: 20,
        remaining: 1000,
        isPrimary: true,
      };
      const child = {
        type: 'CHILD_3~11',
        name: 'CHILD',
        description: 'CHILD_3~11 description',
        price: { finalPrice: 43, originalPrice: 143, currencyCode: 'SGD', discount: 100 },
        min: 0,
        max: 20,
        remaining: 10,
        isPrimary: false,
      };
      expect(res.body).toEqual([
        {
          startDate: '2025-04-03',
          startTime: '04:30',
          endTime: '04:30',
          price: adult.price,
          remaining: 2000,
          paxAvailability: [adult, child],
          providerSlotId: expect.stringMatching(/^p14_2025-04-03T04:30_/),
          variantId: 32,
        },
        {
          startDate: '2025-04-03',
          startTime: '05:00',
          endTime: '05:00',
          price: adult.price,
          remaining: 7,
          paxAvailability: [adult, child],
          providerSlotId: expect.stringMatching(/^p14_2025-04-03T05:00_/),
          variantId: 32,
        },
      ]);
      // The JSON text carries the stored decimal verbatim, not a float artefact.
      expect(res.text).toContain('"finalPrice":212.14,');
      expect(res.text).not.toMatch(/212\.1400|212\.13999/);
    });

    it('answers the seed path /{productId}?date= with the same body as /{productId}/slots', async () => {
      const a = await api.get('/api/v1/experience/14?date=2025-04-03').expect(200);
      const b = await api.get('/api/v1/experience/14/slots?date=2025-04-03').expect(200);
      expect(a.text).toBe(b.text);
      expect(a.body).toHaveLength(2);
    });

    it('prices a slot by its first pax when none is primary, by the primary one otherwise', async () => {
      const cheapFirst = { type: 'CHILD_5~15', position: 0, final: '137', original: '237' };
      const dearSecond = { type: 'ADULT_12~99', position: 1, final: '341', original: '441' };
      await seedSlot(prisma, {
        productId: 15,
        date: '2025-04-06',
        startTime: '00:00',
        pax: [dearSecond, cheapFirst],
      });
      await seedSlot(prisma, {
        productId: 15,
        date: '2025-04-13',
        startTime: '00:00',
        pax: [{ ...dearSecond, isPrimary: true }, cheapFirst],
      });
      const noPrimary = await api.get('/api/v1/experience/15/slots?date=2025-04-06').expect(200);
      expect(noPrimary.body[0].price).toEqual({
        finalPrice: 137,
        originalPrice: 237,
        currencyCode: 'SGD',
        discount: 100,
      });
      expect(noPrimary.body[0].paxAvailability.map((p: { type: string }) => p.type)).toEqual([
        'CHILD_5~15',
        'ADULT_12~99',
      ]);
      const primary = await api.get('/api/v1/experience/15/slots?date=2025-04-13').expect(200);
      expect(primary.body[0].price.finalPrice).toBe(341);
      expect(primary.body[0].price.originalPrice).toBe(441);
    });

    it('writes exactly the JSON text JSON.stringify gives: escaped strings, shortest decimals, no spaces', async () => {
      // PostgreSQL builds this text (slotsQuery); a browser, a cache and another instance must
      // all see the bytes JSON.stringify would have written for the same Slot[].
      const odd = {
        type: 'INFANT_0~2',
        position: 0,
        final: '0.0001',
        original: '9999999999.9999',
        discount: '-5.5',
        name: 'Bébé "tiny" \\ \u0001\t日本 😀',
        description: 'line one\nline two </script>',
        currency: 'EUR',
        remaining: 0,
      };
      await seedSlot(prisma, {
        productId: 15,
        date: '2025-05-02',
        startTime: '09:00',
        pax: [odd],
      });
      // Stored without any pax type: it has no price and nothing to book, so it is left out.
      await seedSlot(prisma, { productId: 15, date: '2025-05-02', startTime: '08:00', pax: [] });
      const res = await api.get('/api/v1/experience/15/slots?date=2025-05-02').expect(200);
      const price = {
        finalPrice: 0.0001,
        originalPrice: 9999999999.9999,
        currencyCode: 'EUR',
        discount: -5.5,
      };
      const expected = [
        {
          startDate: '2025-05-02',
          startTime: '09:00',
          endTime: '09:00',
          price,
          remaining: 2000,
          paxAvailability: [
            {
              type: odd.type,
              name: odd.name,
              description: odd.description,
              price,
              min: 0,
              max: 20,
              remaining: 0,
              isPrimary: false,
            },
          ],
          providerSlotId: res.body[0]?.providerSlotId,
          variantId: 32,
        },
      ];
      expect(res.text).toBe(JSON.stringify(expected));
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));

      // The answer a sync stores for these rows is the same text, so the same ETag.
      await storeAnswer(15, '2025-05-02');
      const fromStored = await api.get('/api/v1/experience/15/slots?date=2025-05-02').expect(200);
      expect(fromStored.text).toBe(res.text);
      expect(fromStored.headers.etag).toBe(res.headers.etag);
    });

    it('serves the answer stored with the rows, with its Last-Modified, instead of building it', async () => {
      const date = '2025-04-10';
      await seedSlot(prisma, {
        productId: 14,
        date,
        startTime: '06:00',
        remaining: 9,
        pax: [ADULT],
      });
      const live = await api.get(`/api/v1/experience/14/slots?date=${date}`).expect(200);
      expect(live.headers['last-modified']).toBeUndefined();

      await prisma.productDateSync.create({
        data: {
          productId: 14,
          date: toDbDate(date),
          lastSuccessAt: new Date('2025-03-30T10:00:00Z'),
        },
      });
      await storeAnswer(14, date);
      const [row] = await prisma.slotAnswer.findMany({
        where: { productId: 14, date: toDbDate(date) },
      });
      expect(row.body).toBe(live.text);

      // Rows written behind the sync's back: the stored answer is what is served until the next
      // store renders it again.
      await prisma.slot.updateMany({
        where: { productId: 14, date: toDbDate(date) },
        data: { remaining: 1 },
      });
      t.app.get(InventoryEvents).emitProductDateChanged({ productId: 14, date });
      const stored = await api.get(`/api/v1/experience/14/slots?date=${date}`).expect(200);
      expect(stored.text).toBe(live.text);
      expect(stored.headers['last-modified']).toBe('Sun, 30 Mar 2025 10:00:00 GMT');

      await storeAnswer(14, date);
      const rendered = await api.get(`/api/v1/experience/14/slots?date=${date}`).expect(200);
      expect(rendered.body[0].remaining).toBe(1);
      expect(rendered.headers.etag).not.toBe(stored.headers.etag);
    });

    it('gives each of many concurrent reads its own stored answer (looked up together)', async () => {
      const dates = Array.from(
        { length: 12 },
        (_, i) => `2025-04-${String(11 + i).padStart(2, '0')}`,
      );
      for (const [i, date] of dates.entries()) {
        await seedSlot(prisma, {
          productId: 14,
          date,
          startTime: '07:00',
          remaining: 100 + i,
          pax: [ADULT],
        });
        await storeAnswer(14, date);
      }
      // A date without a stored answer among them is built from its rows.
      await seedSlot(prisma, {
        productId: 14,
        date: '2025-04-30',
        startTime: '07:00',
        remaining: 7,
        pax: [ADULT],
      });
      const all = [...dates, '2025-04-30', ...dates];
      const answers = await Promise.all(
        all.map((date) => api.get(`/api/v1/experience/14/slots?date=${date}`).expect(200)),
      );
      expect(answers.map((a) => [a.body[0].startDate, a.body[0].remaining])).toEqual(
        all.map((date) => [date, date === '2025-04-30' ? 7 : 100 + dates.indexOf(date)]),
      );
    });

    it('prices a slot by the first primary pax by position when several claim it', async () => {
      await seedSlot(prisma, {
        productId: 15,
        date: '2025-05-03',
        startTime: '10:00',
        pax: [
          { type: 'A', position: 3, final: '30', original: '31', isPrimary: true },
          { type: 'B', position: 2, final: '20', original: '21' },
          { type: 'C', position: 1, final: '10', original: '11', isPrimary: true },
        ],
      });
      const res = await api.get('/api/v1/experience/15/slots?date=2025-05-03').expect(200);
      expect(res.body[0].price.finalPrice).toBe(10);
      expect(res.body[0].paxAvailability.map((p: { type: string }) => p.type)).toEqual([
        'C',
        'B',
        'A',
      ]);
    });

    it('answers 200 [] for a configured product without stored slots on that date', async () => {
      const res = await api.get('/api/v1/experience/17/slots?date=2025-04-03').expect(200);
      expect(res.body).toEqual([]);
      await api.get('/api/v1/experience/999999999/slots?date=9999-12-31').expect(200, []);
    });

    it('answers 404 for a product the service does not keep in sync', async () => {
      const res = await api.get('/api/v1/experience/99/slots?date=2025-04-03').expect(404);
      expect(res.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'product 99 is not one of the products this service keeps in sync',
      });
      await api.get('/api/v1/experience/99/dates').expect(404);
    });
  });

  describe('dates', () => {
    beforeAll(async () => {
      const p = 16;
      // Today in Kolkata (2025-04-01): the cheaper slot is sold out, so 40 (not 30) is the lowest.
      await seedSlot(prisma, {
        productId: p,
        date: '2025-04-01',
        startTime: '09:00',
        pax: [{ ...ADULT, final: '50.5', original: '60' }],
      });
      await seedSlot(prisma, {
        productId: p,
        date: '2025-04-01',
        startTime: '10:00',
        pax: [{ ...ADULT, final: '40.25', original: '45', currency: 'EUR' }],
      });
      await seedSlot(prisma, {
        productId: p,
        date: '2025-04-01',
        startTime: '11:00',
        remaining: 0,
        pax: [{ ...ADULT, final: '30', original: '35' }],
      });
      // A slot's price is its primary pax's price, even when another pax is cheaper.
      await seedSlot(prisma, {
        productId: p,
        date: '2025-04-02',
        startTime: '09:00',
        pax: [CHILD, { ...ADULT, isPrimary: true }],
      });
      // Every slot sold out: the date is left out.
      await seedSlot(prisma, {
        productId: p,
        date: '2025-04-03',
        startTime: '09:00',
        remaining: 0,
        pax: [ADULT],
      });
      // Yesterday in Kolkata (but still today in UTC): out of range.
      await seedSlot(prisma, {
        productId: p,
        date: '2025-03-31',
        startTime: '23:00',
        pax: [ADULT],
      });
      // Today + 2 months is the last day in range; the day after is not.
      await seedSlot(prisma, {
        productId: p,
        date: '2025-06-01',
        startTime: '09:00',
        pax: [ADULT],
      });
      await seedSlot(prisma, {
        productId: p,
        date: '2025-06-02',
        startTime: '09:00',
        pax: [ADULT],
      });
    });

    it('lists dates with seats left from today in SYNC_TIMEZONE to today + 2 months, each with its lowest slot price', async () => {
      const res = await api.get('/api/v1/experience/16/dates').expect(200);
      expect(res.body).toEqual({
        dates: [
          {
            date: '2025-04-01',
            price: { finalPrice: 40.25, originalPrice: 45, currencyCode: 'EUR', discount: 100 },
          },
          {
            date: '2025-04-02',
            price: {
              finalPrice: 212.14,
              originalPrice: 312.14,
              currencyCode: 'SGD',
              discount: 100,
            },
          },
          {
            date: '2025-06-01',
            price: {
              finalPrice: 212.14,
              originalPrice: 312.14,
              currencyCode: 'SGD',
              discount: 100,
            },
          },
        ],
      });
    });

    it('answers { dates: [] } for a configured product with nothing stored', async () => {
      await api.get('/api/v1/experience/18/dates').expect(200, { dates: [] });
    });
  });

  describe('bad input', () => {
    const dateExpected = 'a calendar date in YYYY-MM-DD format';
    it.each([
      [
        '/api/v1/experience/14/slots?date=2025-02-30',
        `date must be ${dateExpected}, e.g. 2025-04-03, got "2025-02-30"`,
      ],
      ['/api/v1/experience/14/slots?date=2025-13-01', '"2025-13-01"'],
      ['/api/v1/experience/14/slots?date=today', '"today"'],
      ['/api/v1/experience/14/slots?date=', 'got ""'],
      ['/api/v1/experience/14/slots', 'date is required'],
      ['/api/v1/experience/14?date=2025-4-3', '"2025-4-3"'],
      ['/api/v1/experience/14/slots?date=2025-04-03&date=2025-04-04', 'date must be given once'],
      ['/api/v1/experience/14/slots?date=0000-01-01', '"0000-01-01"'],
      [
        '/api/v1/experience/14/slots?date=2025-04-03%27%3B%20DROP%20TABLE%20slots%3B--',
        dateExpected,
      ],
      ['/api/v1/experience/abc/slots?date=2025-04-03', 'productId must be a positive integer'],
      ['/api/v1/experience/0/slots?date=2025-04-03', 'got "0"'],
      ['/api/v1/experience/-14/dates', 'got "-14"'],
      ['/api/v1/experience/014/dates', 'got "014"'],
      ['/api/v1/experience/1.5/dates', 'got "1.5"'],
      ['/api/v1/experience/1e3/dates', 'got "1e3"'],
      ['/api/v1/experience/2147483648/dates', 'between 1 and 2147483647'],
      ['/api/v1/experience/99999999999999999999999/dates', 'productId must be a positive integer'],
      ['/api/v1/experience/%E2%9C%93/dates', 'got "✓"'],
      ['/api/v1/experience/sync?date=2025-04-03', 'got "sync"'],
    ])('GET %s → 400 saying %j', async (path, expected) => {
      const res = await api.get(path).expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringContaining(expected),
      });
    });

    it('does not echo an absurdly long value back whole', async () => {
      const long = 'A'.repeat(5000);
      const res = await api.get(`/api/v1/experience/14/slots?date=${long}`).expect(400);
      expect(res.body.message.length).toBeLessThan(200);
    });

    it('answers 400 JSON to a malformed %-escape in the path', async () => {
      const res = await rawGet(t.baseUrl, '/api/v1/experience/%E0%A4%A/slots?date=2025-04-03');
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });

    it('answers 404 to unknown routes and to other methods on the read routes', async () => {
      await api.get('/api/v1/experience/14/slots/extra?date=2025-04-03').expect(404);
      await api.get('/api/v1/experiences/14').expect(404);
      const post = await api.post('/api/v1/experience/14/slots?date=2025-04-03').expect(404);
      expect(post.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      await api.delete('/api/v1/experience/14/dates').expect(404);
    });

    it('never answers 5xx to 1,000 random paths and dates', async () => {
      const garbage = fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.string({ unit: 'grapheme', maxLength: 10 }),
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
        fc.integer().map(String),
        fc.double().map(String),
        fc.constantFrom("1' OR '1'='1", '1;DROP TABLE slots', '../../etc', 'sync', 'NaN', ''),
        fc.string({ minLength: 500, maxLength: 3000 }),
      );
      // Raw %-sequences, valid or not, next to properly encoded text.
      const segment = fc.oneof(
        garbage.map(encodeURIComponent),
        fc
          .array(fc.constantFrom('%', '%E0', '%A4', '%FF', '%00', '%2F', '%25', 'a', '1'), {
            maxLength: 6,
          })
          .map((a) => a.join('')),
      );
      const suffix = fc.constantFrom('', '/slots', '/dates', '/x', '/slots/');
      const query = fc.oneof(
        fc.constant(''),
        segment.map((v) => `?date=${v}`),
        fc.tuple(segment, segment).map(([a, b]) => `?date=${a}&date=${b}`),
        segment.map((v) => `?date[x]=${v}`),
        fc.date({ noInvalidDate: true }).map((d) => `?date=${d.toISOString().slice(0, 10)}`),
      );
      await fc.assert(
        fc.asyncProperty(segment, suffix, query, async (id, sfx, q) => {
          const res = await rawGet(t.baseUrl, `/api/v1/experience/${id}${sfx}${q}`);
          return res.status >= 200 && res.status < 500;
        }),
        { numRuns: 1000 },
      );
    }, 120_000);
  });

  describe('route precedence', () => {
    it('leaves /api/v1/experience/sync/... to the sync routes (never a productId 400)', async () => {
      for (const path of ['/api/v1/experience/sync/status', '/api/v1/experience/sync/freshness']) {
        const res = await api.get(path);
        expect(res.status).not.toBe(400);
        expect(String(res.body?.message ?? '')).not.toContain('productId');
      }
    });
  });

  describe('caching', () => {
    const date = '2025-04-20';

    beforeAll(async () => {
      await seedSlot(prisma, {
        productId: 17,
        date,
        startTime: '08:00',
        remaining: 5,
        pax: [ADULT],
      });
      await prisma.productDateSync.create({
        data: {
          productId: 17,
          date: toDbDate(date),
          lastSuccessAt: new Date('2025-03-31T19:00:00.123Z'),
        },
      });
      // Announce the write as a sync would: earlier suites (the random-path property test) may
      // already have cached product 17's empty answers.
      t.app.get(InventoryEvents).emitProductDateChanged({ productId: 17, date });
    });

    it('keeps serving the cached answer until the sync reports a change, then reads fresh data', async () => {
      const before = await api.get(`/api/v1/experience/17/slots?date=${date}`).expect(200);
      const datesBefore = await api.get('/api/v1/experience/17/dates').expect(200);
      expect(before.body[0].remaining).toBe(5);
      expect(datesBefore.body.dates.map((d: { date: string }) => d.date)).toEqual([date]);

      await prisma.slot.updateMany({
        where: { productId: 17, date: toDbDate(date) },
        data: { remaining: 0 },
      });
      // Written behind the cache's back: still the cached answer (the cache is really in use).
      const stale = await api.get(`/api/v1/experience/17/slots?date=${date}`).expect(200);
      expect(stale.body[0].remaining).toBe(5);

      t.app.get(InventoryEvents).emitProductDateChanged({ productId: 17, date });
      const fresh = await api.get(`/api/v1/experience/17/slots?date=${date}`).expect(200);
      expect(fresh.body[0].remaining).toBe(0);
      const datesAfter = await api.get('/api/v1/experience/17/dates').expect(200);
      expect(datesAfter.body).toEqual({ dates: [] });
    });

    it('sends ETag, Cache-Control and Last-Modified, and 304 with no body for a matching If-None-Match', async () => {
      const first = await api.get(`/api/v1/experience/17/slots?date=${date}`).expect(200);
      const etag = first.headers.etag;
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect(first.headers['cache-control']).toMatch(/max-age=\d+/);
      expect(first.headers['last-modified']).toBe('Mon, 31 Mar 2025 19:00:00 GMT');

      const again = await api
        .get(`/api/v1/experience/17/slots?date=${date}`)
        .set('If-None-Match', `"other", W/${etag}`)
        .expect(304);
      expect(again.text).toBe('');
      expect(again.headers.etag).toBe(etag);
      await api
        .get(`/api/v1/experience/17/slots?date=${date}`)
        .set('If-None-Match', '"other"')
        .expect(200);

      await prisma.slot.updateMany({
        where: { productId: 17, date: toDbDate(date) },
        data: { remaining: 3 },
      });
      t.app.get(InventoryEvents).emitProductDateChanged({ productId: 17, date });
      const changed = await api
        .get(`/api/v1/experience/17/slots?date=${date}`)
        .set('If-None-Match', etag)
        .expect(200);
      expect(changed.headers.etag).not.toBe(etag);
      expect(changed.body[0].remaining).toBe(3);
    });
  });

  describe('OpenAPI', () => {
    it('documents the read endpoints with response types and error bodies at /docs-json, with the UI at /docs', async () => {
      const doc = (await api.get('/docs-json').expect(200)).body;
      const slots = doc.paths['/api/v1/experience/{productId}/slots'].get;
      expect(slots.responses['200'].content['application/json'].schema).toEqual({
        type: 'array',
        items: { $ref: '#/components/schemas/SlotDto' },
      });
      expect(slots.responses['400'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/ApiErrorBody',
      );
      expect(slots.responses['404']).toBeDefined();
      expect(slots.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
        'date',
        'productId',
      ]);
      expect(doc.paths['/api/v1/experience/{productId}'].get).toBeDefined();
      expect(
        doc.paths['/api/v1/experience/{productId}/dates'].get.responses['200'].content[
          'application/json'
        ].schema.$ref,
      ).toBe('#/components/schemas/DateInventoryDto');
      expect(doc.components.schemas.PriceDto.properties.finalPrice.example).toBe(212.14);
      const ui = await api.get('/docs').redirects(1).expect(200);
      expect(ui.text).toContain('swagger-ui');
    });
  });
});
