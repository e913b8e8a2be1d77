import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { Prisma } from '../src/generated/prisma/client';
import { PrismaService } from '../src/core/prisma.service';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { runServiceToExit } from './support/service-process';

/** Writes one slot with two pax types and reads it back through PrismaService. */
async function slotRoundTrip(prisma: PrismaService): Promise<void> {
  // The scheduler may already have registered the configured products at boot.
  await prisma.product.upsert({ where: { id: 14 }, create: { id: 14 }, update: {} });
  await prisma.slot.create({
    data: {
      productId: 14,
      date: new Date('2025-04-03T00:00:00Z'),
      startTime: '04:30',
      endTime: '04:30',
      providerSlotId: '225532707686_2025-04-03T04:30',
      variantId: 32,
      remaining: 2000,
      currencyCode: 'SGD',
      pax: {
        create: [
          {
            type: 'ADULT_12~99',
            position: 0,
            name: 'Adult',
            description: '12-99 years',
            min: 1,
            max: 20,
            remaining: 1000,
            isPrimary: true,
            finalPrice: new Prisma.Decimal('212.14'),
            originalPrice: new Prisma.Decimal('312.14'),
            discount: new Prisma.Decimal('0.1'),
            currencyCode: 'SGD',
          },
          {
            type: 'CHILD_3~11',
            position: 1,
            name: 'Child',
            description: '3-11 years',
            min: 0,
            max: 20,
            remaining: 1000,
            finalPrice: new Prisma.Decimal('43'),
            originalPrice: new Prisma.Decimal('143'),
            discount: new Prisma.Decimal('0'),
            currencyCode: 'SGD',
          },
        ],
      },
    },
  });
  const slot = await prisma.slot.findUniqueOrThrow({
    where: {
      productId_providerSlotId: { productId: 14, providerSlotId: '225532707686_2025-04-03T04:30' },
    },
    include: { pax: { orderBy: { position: 'asc' } } },
  });
  expect(slot.date.toISOString()).toBe('2025-04-03T00:00:00.000Z');
  expect(slot.pax.map((p) => p.type)).toEqual(['ADULT_12~99', 'CHILD_3~11']);
  expect(slot.pax[0].finalPrice.toString()).toBe('212.14');
  expect(slot.pax[0].originalPrice.toString()).toBe('312.14');
  expect(slot.pax[0].finalPrice.toNumber()).toBe(212.14);
  expect(slot.pax[0].discount.toString()).toBe('0.1');
  expect(slot.pax[1].finalPrice.toString()).toBe('43');
  // The sum is exact in decimal arithmetic (a float would give 255.14000000000001).
  expect(slot.pax[0].finalPrice.plus(slot.pax[1].finalPrice).toString()).toBe('255.14');
}

describe('foundation on the real PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('inv_found', { migrate: false });
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    await db.drop();
  });

  it('migrates at boot and round-trips slots and pax with exact decimal prices', async () => {
    await slotRoundTrip(t.app.get(PrismaService));
  });

  it('GET /health answers 200 {status: "ok"}', async () => {
    const res = await request(t.baseUrl).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok' });
  });
});

describe('foundation on the embedded database (PGlite)', () => {
  let dataDir: string;
  let t: TestApp;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'inv-pglite-'));
    t = await startTestApp({ DATA_DIR: dataDir, SYNC_ON_BOOT: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uses the embedded database when DATABASE_URL is unset', () => {
    expect(t.app.get(PrismaService).kind).toBe('embedded');
  });

  it('round-trips slots and pax with exact decimal prices', async () => {
    await slotRoundTrip(t.app.get(PrismaService));
  });

  it('serves the read API from it, prepared statements included (one pooled connection)', async () => {
    // Eight different product-dates: the cache cannot answer, so the statement runs each time.
    for (const day of ['01', '02', '03', '04', '05', '06', '07', '08']) {
      const res = await request(t.baseUrl)
        .get(`/api/v1/experience/14/slots?date=2025-04-${day}`)
        .expect(200);
      expect(res.body).toHaveLength(day === '03' ? 1 : 0);
    }
    const slots = await request(t.baseUrl).get('/api/v1/experience/14/slots?date=2025-04-03');
    expect(slots.body[0]).toMatchObject({
      startTime: '04:30',
      price: { finalPrice: 212.14, originalPrice: 312.14, currencyCode: 'SGD', discount: 0.1 },
    });
    const dates = await request(t.baseUrl).get('/api/v1/experience/14/dates').expect(200);
    expect(dates.body).toEqual({ dates: expect.any(Array) });
  });

  it('GET /health answers 200 {status: "ok"}', async () => {
    const res = await request(t.baseUrl).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok' });
  });
});

describe('boot-time configuration errors (real process)', () => {
  it('exits non-zero with one line naming a bad variable', async () => {
    const { code, output } = await runServiceToExit({ PORT: 'abc', PARTNER_API_KEY: 'k-1234' });
    expect(code).not.toBe(0);
    expect(output).toContain(
      'Invalid configuration: PORT must be an integer between 0 and 65535, got "abc"',
    );
  });

  it('`npm start` without PARTNER_API_KEY refuses and points to the demo', async () => {
    const { code, output } = await runServiceToExit({});
    expect(code).toBe(1);
    expect(output).toMatch(/Invalid configuration: PARTNER_API_KEY is required.*npm run demo/);
  });
});
