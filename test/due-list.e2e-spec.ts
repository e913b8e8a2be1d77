import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, daysBetween, toDbDate, todayIn } from '../src/inventory/calendar';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { buildSyncPolicy, type SyncPolicy } from '../src/inventory/policy/sync-policy';
import { SYNC_POLICY } from '../src/inventory/policy/sync-policy.provider';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';
import { DEFAULT_CRONS, QUIET_CRONS } from './support/default-crons';

const ADMIN_TOKEN = 'due-list-e2e-admin-token-0123456789';
const API_KEY = 'due-list-e2e-partner-key-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
/** 2 products × today .. +59. */
const ALL = 120;

describe('the due list in the real app: pause, restart, removed products, custom crons', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp | undefined;
  let env: Record<string, string>;

  const boot = async (extra: Record<string, string> = {}): Promise<TestApp> => {
    const app = await startTestApp({ ...env, ...extra });
    await until('the app to hold the sync lease', async () =>
      app.app.get(SchedulerService).isLeader(),
    );
    return app;
  };
  const prisma = (): PrismaService => t!.app.get(PrismaService);
  const synced = (): Promise<number> =>
    prisma().productDateSync.count({ where: { lastSuccessAt: { not: null } } });
  const due = (where: Record<string, unknown> = {}): Promise<number> =>
    prisma().productDateSync.count({ where: { dueSince: { not: null }, ...where } });
  const status = async (): Promise<SyncStatus> =>
    (await request(t!.baseUrl).get('/api/v1/experience/sync/status').expect(200))
      .body as SyncStatus;

  beforeEach(async () => {
    db = await createTestDatabase('inv_duelist');
    // A slow partner keeps the boot catch-up going long enough to pause it midway.
    sim = new PartnerSimulator({ rateLimit: 20, windowMs: 1000, apiKey: API_KEY });
    sim.setFaults({ latencyMs: 150 });
    env = {
      DATABASE_URL: db.url,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '20',
      PARTNER_RATE_WINDOW_MS: '1000',
      PARTNER_MAX_CONCURRENCY: '2',
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'true',
      ...QUIET_CRONS,
      ADMIN_TOKEN,
      LEADER_LEASE_MS: '2000',
    };
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
    await sim.stop();
    await db.drop();
  });

  it('pause during the boot catch-up keeps every product-date due; resume syncs all of them', async () => {
    t = await boot();
    await until('the catch-up to be under way', async () => (await synced()) >= 5);
    await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
    // In-flight calls (concurrency 2, plus one handed over) may still land.
    await new Promise((r) => setTimeout(r, 1000));
    const atPause = await synced();
    expect(atPause).toBeLessThan(ALL);
    expect(await due()).toBe(ALL - atPause);
    const calls = sim.stats().total;
    await new Promise((r) => setTimeout(r, 1500));
    expect(sim.stats().total).toBe(calls);

    const resumedAt = Date.now();
    await request(t.baseUrl).post('/api/v1/experience/sync/resume').set(auth).expect(200);
    await until('a partner call after resume', async () => sim.stats().total > calls, 5000);
    // Within 2 s on a quiet machine; a loaded one gets a second of slack.
    expect(Date.now() - resumedAt).toBeLessThan(3000);
    await until('every product-date to be synced', async () => (await synced()) === ALL, 30_000);
    expect(await due()).toBe(0);
  });

  it('a restart while paused keeps the due list, and resume continues it', async () => {
    t = await boot();
    await until('the catch-up to be under way', async () => (await synced()) >= 5);
    await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
    await new Promise((r) => setTimeout(r, 1000));
    await t.close();

    // No catch-up at this start: what continues is the due list itself.
    t = await boot({ SYNC_ON_BOOT: 'false' });
    const before = await synced();
    expect(await due()).toBe(ALL - before);
    expect((await status()).due.total).toBe(ALL - before);
    const calls = sim.stats().total;
    await new Promise((r) => setTimeout(r, 1500));
    expect(sim.stats().total).toBe(calls);

    await request(t.baseUrl).post('/api/v1/experience/sync/resume').set(auth).expect(200);
    await until('every product-date to be synced', async () => (await synced()) === ALL, 30_000);
    expect(await due()).toBe(0);
  });

  it('ranks a never-synced date by how long it has been in the range, not ahead of everything', async () => {
    t = await boot({ SYNC_ON_BOOT: 'false' });
    await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
    const today = todayIn('UTC');
    const now = Date.now();
    const row = (productId: number, day: number, ageSeconds: number | null, target: number) => ({
      productId,
      date: toDbDate(addDays(today, day)),
      lastSuccessAt: ageSeconds === null ? null : new Date(now - ageSeconds * 1000),
      dueSince: new Date(now),
      dueWindow: 'test',
      targetSeconds: target,
    });
    await prisma().productDateSync.createMany({
      data: [
        // Entered the range at today's midnight (UTC): only hours in, under a 7-day target.
        row(14, 59, null, 7 * 86_400),
        // 20 min against 15: 1.33 × late.
        row(14, 0, 1200, 900),
        // Shown for 49 days and more against a 1-day target.
        row(15, 10, null, 86_400),
        // Just synced: 0.
        row(15, 3, 0, 4 * 3600),
      ],
    });
    const next = await t.app.get(DueListRepository).nextDue({
      limit: 10,
      productIds: [14, 15],
      from: today,
      to: addDays(today, 59),
      policy: t.app.get<SyncPolicy>(SYNC_POLICY),
      exclude: [],
    });
    expect(next.map((e) => `${e.productId}:${e.date}`)).toEqual([
      `15:${addDays(today, 10)}`,
      `14:${today}`,
      `14:${addDays(today, 59)}`,
      `15:${addDays(today, 3)}`,
    ]);
  });

  /** Boots without the boot rule, pauses, and gives a maker of product 14's due rows. */
  const pausedWithDueRows = async () => {
    t = await boot({ SYNC_ON_BOOT: 'false' });
    await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
    const today = todayIn('UTC');
    const now = Date.now();
    const row = (day: number, ageSeconds: number, target: number) => ({
      productId: 14,
      date: toDbDate(addDays(today, day)),
      lastSuccessAt: new Date(now - ageSeconds * 1000),
      dueSince: new Date(now),
      dueWindow: 'test',
      targetSeconds: target,
    });
    return { today, row };
  };

  it('ranks a date handed over into a nearer horizon as just due when it entered, not by its old age', async () => {
    const { today, row } = await pausedWithDueRows();
    await prisma().productDateSync.createMany({
      data: [
        // 2.5 × its 1-day target.
        row(10, 2.5 * 86_400, 86_400),
        // Entered +29 (24 h) at today's midnight with data kept under +30's 7 days: counts as
        // 1 day plus the hours since midnight, 1 to 2 ×, not 7 ×.
        row(29, 7 * 86_400, 86_400),
        // 0.9 × its 4-hour target.
        row(5, 0.9 * 4 * 3600, 4 * 3600),
      ],
    });
    const next = await t!.app.get(DueListRepository).nextDue({
      limit: 10,
      productIds: [14],
      from: today,
      to: addDays(today, 59),
      policy: t!.app.get<SyncPolicy>(SYNC_POLICY),
      exclude: [],
    });
    expect(next.map((e) => e.date)).toEqual([
      addDays(today, 10),
      addDays(today, 29),
      addDays(today, 5),
    ]);
  });

  it('ranks within capacity today first, then by time overdue; over capacity by age ÷ target, +30..+59 by a tenth of the stretch', async () => {
    const { today, row } = await pausedWithDueRows();
    await prisma().productDateSync.createMany({
      data: [
        row(0, 1.2 * 900, 900), // 3 min overdue
        row(3, 1.6 * 4 * 3600, 4 * 3600), // 2.4 h overdue
        row(10, 1.4 * 86_400, 86_400), // 9.6 h overdue
        row(40, 1.05 * 7 * 86_400, 7 * 86_400), // 8.4 h overdue; 1 + 0.05 ÷ 0.1 over capacity
      ],
    });
    const order = async (stretch: number): Promise<number[]> =>
      (
        await t!.app.get(DueListRepository).nextDue({
          limit: 10,
          productIds: [14],
          from: today,
          to: addDays(today, 59),
          // The rows' targets are the default crons' (the suite's own crons never fire).
          policy: buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date(), stretch),
          exclude: [],
        })
      ).map((e) => daysBetween(today, e.date));
    expect(await order(1)).toEqual([0, 10, 40, 3]);
    expect(await order(1.66)).toEqual([3, 40, 10, 0]);
  });

  it('drops the due rows of a product taken out of SYNC_PRODUCT_IDS at the next start', async () => {
    t = await boot();
    await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await due({ productId: 15 })).toBeGreaterThan(0);
    await t.close();

    t = await boot({ SYNC_PRODUCT_IDS: '14' });
    expect(await due({ productId: 15 })).toBe(0);
    expect(await due({ productId: 14 })).toBeGreaterThan(0);
    const s = await status();
    expect(s.due.total).toBe(await due({ productId: 14 }));
  });

  it('derives the bands from a custom cron: a five-minute today window says 300 s everywhere', async () => {
    t = await boot({
      SYNC_CRON_QUARTER_HOURLY: '*/5 * * * *',
      SYNC_CRON_FOUR_HOURLY: '0 */4 * * *',
      SYNC_ON_BOOT: 'false',
    });
    const s = await status();
    expect(s.horizons.find((h) => h.name === 'today')?.targetSeconds).toBe(300);
    expect(s.capacity.expectedWorstAgeSeconds.today).toBe(300);
    const matrix = (await request(t.baseUrl).get('/api/v1/experience/sync/freshness').expect(200))
      .body as { bands: Array<{ horizon: string; intervalSeconds: number }> };
    expect(matrix.bands.find((b) => b.horizon === 'today')?.intervalSeconds).toBe(300);
    expect(matrix.bands.find((b) => b.horizon === 'week')?.intervalSeconds).toBe(4 * 3600);
  });
});
