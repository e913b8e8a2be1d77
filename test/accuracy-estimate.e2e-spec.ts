import { Clock } from '../src/common/clock';
import { loadConfig } from '../src/config/app-config';
import { PrismaService } from '../src/core/prisma.service';
import { AccuracyEstimateService } from '../src/inventory/accuracy/accuracy-estimate.service';
import type { AccuracyEstimate } from '../src/inventory/accuracy/accuracy.types';
import { ChangeObservationsRepository } from '../src/inventory/accuracy/change-observations.repository';
import { addDays, todayIn } from '../src/inventory/calendar';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { productDateStoreOn } from './support/product-date-store';
import { parsePartnerInventory } from '../src/partner/partner-payload';
import type { WireSlot } from '../src/partner/simulator/simulator-data';
import request from 'supertest';
import { DEFAULT_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';

const P = 14;

function answer(date: string, remaining: number) {
  const slot: WireSlot = {
    startDate: date,
    startTime: '04:00',
    endTime: '04:00',
    providerSlotId: `14_${date}T04:00`,
    remaining,
    currencyCode: 'SGD',
    variantId: 32,
    paxAvailability: [
      {
        type: 'ADULT_12~99',
        name: 'Adult',
        description: '12-99 years',
        min: 1,
        max: 20,
        remaining,
        isPrimary: true,
        price: { finalPrice: 212.14, originalPrice: 312.14, discount: 100, currencyCode: 'SGD' },
      },
    ],
  };
  return parsePartnerInventory([slot], date);
}

/** A clock the test moves: the estimate's ages count from it. */
class TestClock extends Clock {
  at = Date.now();
  override now(): Date {
    return new Date(this.at);
  }
}

describe('the accuracy estimate from stored answers, on the real PostgreSQL', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let store: ProductDateStore;
  let estimator: AccuracyEstimateService;
  const clock = new TestClock();
  const config = loadConfig({ SYNC_PRODUCT_IDS: String(P), SYNC_TIMEZONE: 'UTC' }, 'demo');
  // +3 days: the week horizon (+1..+6) whatever the hour the test runs at.
  const date = addDays(todayIn('UTC'), 3);
  let remaining = 100;

  /** Stores an answer for `date` asked `intervalSeconds` after the previous success was stored. */
  const storeAfter = (intervalSeconds: number, changed: boolean) => {
    if (changed) remaining -= 1;
    return store.store(
      P,
      date,
      answer(date, remaining),
      store.beginAttempt(new Date(Date.now() + intervalSeconds * 1000)),
    );
  };
  const estimate = async (advanceSeconds = 10): Promise<AccuracyEstimate> => {
    clock.at += advanceSeconds * 1000;
    const e = await estimator.refresh();
    if (!e) throw new Error('no estimate');
    return e;
  };
  const week = (e: AccuracyEstimate) => e.horizons.find((h) => h.name === 'week')!;

  beforeAll(async () => {
    db = await createTestDatabase('inv_accuracy');
    prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    const observations = new ChangeObservationsRepository(prisma);
    store = productDateStoreOn(prisma, { observations });
    const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date());
    estimator = new AccuracyEstimateService(observations, config, policy, clock);
  });

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  it('has no rate before a second sync of any product-date', async () => {
    expect(await storeAfter(0, true)).toBe(true);
    const e = await estimate();
    expect(week(e)).toMatchObject({
      observations: 0,
      changeRatePerHour: null,
      expectedFreshReads: null,
    });
    expect(e.expectedFreshReads).toBeNull();
    expect(e.horizons.map((h) => h.name)).toEqual(['today', 'week', 'month', 'extended']);
  });

  it('sees unchanged answers as a rate of 0: every synced product-date expected fresh', async () => {
    for (let i = 0; i < 3; i++) expect(await storeAfter(600, false)).toBe(false);
    const e = await estimate();
    expect(week(e)).toMatchObject({ observations: 3, changed: 0, changeRatePerHour: 0 });
    // One of the week's six product-dates was ever synced; the others count as stale.
    expect(week(e).expectedFreshReads).toBeCloseTo(1 / 6, 6);
    expect(e.expectedFreshReads).toBeCloseTo(1 / 6, 6);
  });

  it('moves with changed answers: the MLE rate, and fresh reads fall with the age', async () => {
    for (let i = 0; i < 2; i++) expect(await storeAfter(600, true)).toBe(true);
    const storedAt = Date.now();
    const e = await estimate();
    // 2 of 5 intervals of 600 s saw a change: lambda = -ln(3/5) / 600 s.
    const rate = (-Math.log(3 / 5) / 600) * 3600;
    expect(week(e)).toMatchObject({ observations: 5, changed: 2 });
    expect(week(e).changeRatePerHour).toBeCloseTo(rate, 2);

    const hourLater = await estimate(3600);
    expect(week(hourLater).changeRatePerHour).toBeCloseTo(rate, 2);
    const ageHours = (clock.at - storedAt) / 3_600_000;
    const expected = Math.exp(-rate * ageHours) / 6;
    expect(week(hourLater).expectedFreshReads).toBeGreaterThan(expected * 0.99);
    expect(week(hourLater).expectedFreshReads).toBeLessThan(expected * 1.01);
    expect(hourLater.expectedFreshReads).toBeLessThan(e.expectedFreshReads!);
  });

  it('forgets observations older than its window', async () => {
    const dayLater = await estimate(25 * 3600);
    expect(week(dayLater)).toMatchObject({ observations: 0, changeRatePerHour: null });
  });
});

describe('the accuracy estimate in the running service: status and metrics', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('inv_accuracy_app');
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false', SYNC_PRODUCT_IDS: '14' });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('shows what the stores saw in GET /sync/status and as gauges', async () => {
    const store = t.app.get(ProductDateStore);
    const date = addDays(todayIn(t.config.sync.timeZone), 3);
    // Asked `seconds` after the previous answer was stored (its last success is the store's time).
    const at = (seconds: number) => new Date(Date.now() + seconds * 1000);
    expect(await store.store(P, date, answer(date, 10), store.beginAttempt(at(0)))).toBe(true);
    expect(await store.store(P, date, answer(date, 9), store.beginAttempt(at(600)))).toBe(true);
    expect(await store.store(P, date, answer(date, 9), store.beginAttempt(at(600)))).toBe(false);

    const status = await request(t.baseUrl).get('/api/v1/experience/sync/status');
    expect(status.status).toBe(200);
    const accuracy = status.body.accuracy as AccuracyEstimate;
    const week = accuracy.horizons.find((h) => h.name === 'week')!;
    expect(week).toMatchObject({ observations: 2, changed: 1 });
    // 1 of 2 intervals of about 600 s saw a change: ln 2 per 600 s.
    expect(week.changeRatePerHour! / ((Math.log(2) / 600) * 3600)).toBeCloseTo(1, 1);
    expect(week.expectedFreshReads).toBeGreaterThan(0);
    expect(accuracy.expectedFreshReads).toBeGreaterThan(0);
    expect(accuracy.history).toHaveLength(1);
    expect(accuracy.method).toMatch(/maximum likelihood/);

    const metrics = (await request(t.baseUrl).get('/metrics')).text;
    const value = (series: string): number => {
      const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
      return line ? Number(line.split(' ')[1]) : NaN;
    };
    expect(value('inventory_sync_change_rate_per_second{range="week"}')).toBeCloseTo(
      week.changeRatePerHour! / 3600,
      9,
    );
    expect(value('inventory_sync_expected_fresh_reads_ratio{range="week"}')).toBeCloseTo(
      week.expectedFreshReads!,
      9,
    );
    expect(value('inventory_sync_expected_fresh_reads_ratio{range="all"}')).toBeCloseTo(
      accuracy.expectedFreshReads!,
      9,
    );
    // No observation of the other horizons yet: no rate, so no series.
    expect(metrics).not.toContain('inventory_sync_change_rate_per_second{range="today"}');
  });
});
