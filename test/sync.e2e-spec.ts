import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, todayIn } from '../src/inventory/calendar';
import { SyncControlService } from '../src/inventory/control/sync-control.service';
import { SchedulerService } from '../src/inventory/schedule/scheduler.service';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { until } from './support/until';
import { NEVER_CRON, QUIET_CRONS } from './support/default-crons';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const API_KEY = 'sync-e2e-partner-key-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe('sync engine in the real app against the partner simulator', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  let t: TestApp;
  let env: Record<string, string>;

  const boot = async (extra: Record<string, string> = {}): Promise<TestApp> =>
    startTestApp({ ...env, ...extra });
  const status = async (): Promise<SyncStatus> =>
    (await request(t.baseUrl).get('/api/v1/experience/sync/status').expect(200)).body as SyncStatus;
  const prisma = (): PrismaService => t.app.get(PrismaService);
  const scheduler = (): SchedulerService => t.app.get(SchedulerService);
  const waitRun = (runId: number) =>
    until(`run ${runId} to finish`, async () => {
      const run = await prisma().syncRun.findUnique({ where: { id: runId } });
      return run && run.outcome !== 'running' ? run : null;
    });

  beforeAll(async () => {
    db = await createTestDatabase('inv_sync');
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
    const url = await sim.start(0);
    env = {
      DATABASE_URL: db.url,
      PARTNER_API_URL: url,
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '100',
      PARTNER_RATE_WINDOW_MS: '1000',
      PARTNER_MAX_CONCURRENCY: '8',
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
      ADMIN_TOKEN,
      LEADER_LEASE_MS: '2000',
    };
    t = await boot();
    await until('the app to hold the sync lease', async () => scheduler().isLeader());
  });

  afterAll(async () => {
    await t?.close();
    await sim?.stop();
    await db?.drop();
  });

  describe('admin token', () => {
    it.each([
      ['no Authorization header', {}],
      ['a wrong token', { Authorization: 'Bearer wrong-token-0123456789abcdef' }],
      ['the right token without the Bearer scheme', { Authorization: ADMIN_TOKEN }],
    ])('answers 401 JSON to %s and changes nothing', async (_what, headers) => {
      const before = await prisma().syncControl.findUniqueOrThrow({ where: { id: 1 } });
      for (const path of ['pause', 'resume', 'run']) {
        const res = await request(t.baseUrl)
          .post(`/api/v1/experience/sync/${path}`)
          .set(headers)
          .send({ window: 'daily' })
          .expect(401);
        expect(res.body).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: expect.any(String),
        });
        expect(JSON.stringify(res.body)).not.toContain(ADMIN_TOKEN);
      }
      expect(await prisma().syncControl.findUniqueOrThrow({ where: { id: 1 } })).toEqual(before);
      expect(await prisma().syncRun.count({ where: { trigger: 'manual' } })).toBe(0);
    });

    it('documents the control endpoints in OpenAPI, with bearer auth on the protected ones', async () => {
      const doc = (await request(t.baseUrl).get('/docs-json').expect(200)).body as {
        paths: Record<
          string,
          Record<string, { security?: unknown[]; responses: Record<string, unknown> }>
        >;
      };
      for (const path of ['pause', 'resume', 'run']) {
        const post = doc.paths[`/api/v1/experience/sync/${path}`].post;
        expect(post.security).toEqual([{ bearer: [] }]);
        // The body parser's refusals are documented with the handler's own answers.
        expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['400', '413', '415']));
      }
      // Public operations say so: an empty requirement, not a missing one.
      expect(doc.paths['/api/v1/experience/sync/status'].get.security).toEqual([]);
    });

    it.each<[string, string | undefined, string, number, string]>([
      [
        'malformed JSON',
        'application/json',
        '{"window": "daily"',
        400,
        'Request body is not valid JSON',
      ],
      [
        'a body that is not JSON',
        'text/plain',
        'window=daily',
        415,
        'Unsupported Content-Type: send application/json',
      ],
      [
        'a body over 100 KB',
        'application/json',
        JSON.stringify({ window: 'x'.repeat(110_000) }),
        413,
        'Request body is too large',
      ],
    ])(
      'answers %s to POST run with a 4xx JSON error and starts nothing',
      async (_what, type, body, code, message) => {
        const req = request(t.baseUrl).post('/api/v1/experience/sync/run').set(auth);
        if (type) req.set('Content-Type', type);
        const res = await req.send(body).expect(code);
        expect(res.body).toEqual({ statusCode: code, error: expect.any(String), message });
        expect(res.headers['x-request-id']).toEqual(expect.any(String));
        expect(await prisma().syncRun.count({ where: { trigger: 'manual' } })).toBe(0);
      },
    );

    it('serves status without a token', async () => {
      const s = await status();
      expect(s.paused).toBe(false);
      expect(s.windows.map((w) => w.window).sort()).toEqual([
        'daily',
        'extended',
        'four-hourly',
        'quarter-hourly',
      ]);
      expect(s.capacity).toMatchObject({
        products: 2,
        callsPerDayAllowed: 8_640_000,
        overCapacity: false,
      });
      expect(s.instance.leader).toBe(true);
    });
  });

  describe('manual run', () => {
    it.each([
      [{ window: 'hourly' }, /window must be one of/],
      [{}, /window must be one of/],
      [{ window: 'daily', productIds: [99] }, /99 is not synced/],
      [{ window: 'daily', productIds: ['x'] }, /productIds/],
    ])('answers 400 to %j', async (body, message) => {
      const res = await request(t.baseUrl)
        .post('/api/v1/experience/sync/run')
        .set(auth)
        .send(body)
        .expect(400);
      expect(res.body.message).toMatch(message);
    });

    it('answers 202 with a runId, stores the window and shows the run in status', async () => {
      const res = await request(t.baseUrl)
        .post('/api/v1/experience/sync/run')
        .set(auth)
        .send({ window: 'quarter-hourly', productIds: [15] })
        .expect(202);
      expect(res.body).toEqual({
        runId: expect.any(Number),
        alreadyRunning: false,
        marked: 1,
        requestedBy: t.app.get(SchedulerService).instanceId,
      });
      const run = await waitRun(res.body.runId);
      expect(run).toMatchObject({
        trigger: 'manual',
        outcome: 'ok',
        planned: 1,
        succeeded: 1,
        failed: 0,
      });
      const today = new Date(`${todayIn('UTC')}T00:00:00Z`);
      // Product 15 has slots on Sundays only: compare with what the sync recorded, not a constant.
      const state = await prisma().productDateSync.findUniqueOrThrow({
        where: { productId_date: { productId: 15, date: today } },
      });
      expect(state).toMatchObject({ lastOutcome: 'changed', lastError: null });
      expect(await prisma().slot.count({ where: { productId: 15, date: today } })).toBe(
        state.slotCount,
      );
      const s = await status();
      expect(s.recentRuns[0]).toMatchObject({
        id: res.body.runId,
        outcome: 'ok',
        window: 'quarter-hourly',
      });
      expect(s.windows.find((w) => w.window === 'quarter-hourly')!.lastRun!.id).toBe(
        res.body.runId,
      );
      expect(s.freshness.find((f) => f.productId === 15)!.oldestAgeSeconds.today).toEqual(
        expect.any(Number),
      );
      expect(s.freshness.find((f) => f.productId === 14)!.oldestAgeSeconds.today).toBeNull();
    });
  });

  describe('scheduled ticks', () => {
    it('costs 30 calls per product when the daily, four-hourly and quarter-hourly windows fire together', async () => {
      sim.reset();
      const midnight = new Date(Date.UTC(2030, 0, 1));
      const before = await prisma().syncRun.findMany({ select: { id: true } });
      await Promise.all(
        (['quarter-hourly', 'four-hourly', 'daily'] as const).map((w) =>
          scheduler().tick(w, midnight),
        ),
      );
      const runs = await until('the three runs to finish', async () => {
        const rows = await prisma().syncRun.findMany({
          where: { id: { notIn: before.map((r) => r.id) } },
        });
        return rows.length === 3 && rows.every((r) => r.outcome !== 'running') ? rows : null;
      });
      const calls = sim.stats().perProductDate;
      const perProduct = (id: number) =>
        Object.entries(calls)
          .filter(([k]) => k.startsWith(`${id}:`))
          .reduce((n, [, c]) => n + c, 0);
      expect([perProduct(14), perProduct(15)]).toEqual([30, 30]);
      expect(runs.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok']);
      // 2 products × (1 + 7 + 30) planned, of which 2 × 8 joined another window's sync.
      expect(runs.reduce((n, r) => n + r.planned, 0)).toBe(76);
      expect(runs.reduce((n, r) => n + r.deduplicated, 0)).toBe(16);
    });

    it('runs one window occurrence once, even when ticked twice', async () => {
      const at = new Date(Date.UTC(2030, 0, 2, 0, 15));
      await scheduler().tick('quarter-hourly', at);
      await scheduler().tick('quarter-hourly', at);
      const rows = await prisma().syncRun.findMany({
        where: { occurrence: `quarter-hourly@${at.toISOString()}` },
      });
      expect(rows).toHaveLength(1);
    });

    it('marks again while the previous run of the window is still going: one row per product-date, two runs, each fetched once', async () => {
      // Nothing left in flight from the tests before: a fetch begun before a tick does not count
      // for it, and would be fetched once more.
      await until(
        'the due list to be empty',
        async () =>
          (await prisma().productDateSync.count({ where: { dueSince: { not: null } } })) === 0,
      );
      sim.reset();
      // Two batches of slow answers (14 product-dates, 8 at a time): progress is counted every
      // second, so it is seen between them.
      sim.setFaults({ latencyMs: 1500 });
      try {
        await scheduler().tick('four-hourly', new Date(Date.UTC(2030, 0, 3, 4)));
        const first = await prisma().syncRun.findUniqueOrThrow({
          where: { occurrence: 'four-hourly@2030-01-03T04:00:00.000Z' },
        });
        // Progress while it runs, not 0/N until the end.
        const midway = await until('the first run to show progress', async () => {
          const r = await prisma().syncRun.findUniqueOrThrow({ where: { id: first.id } });
          return r.outcome === 'running' && r.succeeded > 0 && r.remaining > 0 ? r : null;
        });
        expect(midway.succeeded + midway.failed + midway.remaining).toBe(14);
        await scheduler().tick('four-hourly', new Date(Date.UTC(2030, 0, 3, 8)));
        const second = await prisma().syncRun.findUniqueOrThrow({
          where: { occurrence: 'four-hourly@2030-01-03T08:00:00.000Z' },
        });
        expect(second.outcome).toBe('running');
        expect((await waitRun(first.id)).outcome).toBe('ok');
        const done = await waitRun(second.id);
        expect(done).toMatchObject({ outcome: 'ok', planned: 14, succeeded: 14, remaining: 0 });
        // The second tick shared what was still due; nothing was fetched twice at once.
        expect(done.deduplicated).toBeGreaterThan(0);
        const calls = Object.values(sim.stats().perProductDate);
        expect(calls.reduce((n, c) => n + c, 0)).toBeLessThanOrEqual(28);
        expect(Math.max(...calls)).toBeLessThanOrEqual(2);
      } finally {
        sim.setFaults({ latencyMs: 0 });
      }
    });
  });

  describe('pause and resume', () => {
    it('pauses idempotently, skips ticks and refuses manual runs while paused, and survives a restart', async () => {
      const first = await request(t.baseUrl)
        .post('/api/v1/experience/sync/pause')
        .set(auth)
        .send({ reason: 'maintenance' })
        .expect(200);
      expect(first.body).toMatchObject({
        paused: true,
        changed: true,
        reason: 'maintenance',
        since: expect.any(String),
      });
      // Sent with the JSON header and no body, as `curl -H 'Content-Type: application/json'` does.
      const again = await request(t.baseUrl)
        .post('/api/v1/experience/sync/pause')
        .set(auth)
        .set('Content-Type', 'application/json')
        .send('')
        .expect(200);
      expect(again.body).toMatchObject({ paused: true, changed: false, since: first.body.since });

      const calls = sim.stats().total;
      await scheduler().tick('quarter-hourly', new Date(Date.UTC(2030, 0, 4)));
      const skipped = await prisma().syncRun.findUniqueOrThrow({
        where: { occurrence: 'quarter-hourly@2030-01-04T00:00:00.000Z' },
      });
      expect(skipped).toMatchObject({ outcome: 'skipped', error: 'sync is paused' });
      await request(t.baseUrl)
        .post('/api/v1/experience/sync/run')
        .set(auth)
        .send({ window: 'daily' })
        .expect(409);
      expect(sim.stats().total).toBe(calls);

      await t.close();
      t = await boot();
      const s = await status();
      expect(s).toMatchObject({ paused: true, pausedSince: first.body.since });

      const resumed = await request(t.baseUrl)
        .post('/api/v1/experience/sync/resume')
        .set(auth)
        .expect(200);
      expect(resumed.body).toMatchObject({ paused: false, changed: true });
      expect((await status()).paused).toBe(false);
    });

    it('is seen by another instance on the same database within its 500 ms poll', async () => {
      const other = await boot();
      try {
        const control = other.app.get(SyncControlService);
        expect(control.isPaused()).toBe(false);
        await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
        // Generous deadline for a loaded machine; the poll itself runs every CONTROL_POLL_MS.
        await until('the other instance to see the pause', async () => control.isPaused(), 5000);
        await request(t.baseUrl).post('/api/v1/experience/sync/resume').set(auth).expect(200);
        await until('the other instance to see the resume', async () => !control.isPaused(), 5000);
      } finally {
        await other.close();
      }
    });

    it('stops taking work at once, lets the calls in flight store, drops nothing, and resume finishes the run', async () => {
      // After the restarts above, this instance must hold the sync lease before it may call.
      await until('this instance to lead', async () => (await status()).instance.leader);
      sim.setFaults({ latencyMs: 200 });
      try {
        const res = await request(t.baseUrl)
          .post('/api/v1/experience/sync/run')
          .set(auth)
          .send({ window: 'daily' })
          .expect(202);
        await until('a partner call in flight', async () => sim.stats().total > 0);
        const calls = sim.stats().total;
        await request(t.baseUrl).post('/api/v1/experience/sync/pause').set(auth).expect(200);
        // At most the jobs already handed to the limiter (concurrency 8 + 1) went out after it.
        await new Promise((r) => setTimeout(r, 1500));
        const paused = sim.stats().total;
        expect(paused - calls).toBeLessThanOrEqual(9);
        await new Promise((r) => setTimeout(r, 1000));
        expect(sim.stats().total).toBe(paused);
        const held = await prisma().syncRun.findUniqueOrThrow({ where: { id: res.body.runId } });
        // The run waits, it is not cut: what was not fetched is still due.
        expect(held.outcome).toBe('running');
        expect(held.remaining).toBeGreaterThan(0);
        const today = todayIn('UTC');
        const inScope = {
          productId: { in: [14, 15] },
          date: {
            gte: new Date(`${today}T00:00:00Z`),
            lte: new Date(`${addDays(today, 29)}T00:00:00Z`),
          },
        };
        const due = await prisma().productDateSync.count({
          where: { ...inScope, dueSince: { not: null } },
        });
        expect(due).toBeGreaterThanOrEqual(held.remaining);

        const resumedAt = Date.now();
        await request(t.baseUrl).post('/api/v1/experience/sync/resume').set(auth).expect(200);
        await until('a partner call after resume', async () => sim.stats().total > paused, 5000);
        expect(Date.now() - resumedAt).toBeLessThan(2000 + 1000);
        const run = await waitRun(res.body.runId);
        expect(run).toMatchObject({ outcome: 'ok', planned: 60, succeeded: 60, remaining: 0 });
        expect(
          await prisma().productDateSync.count({ where: { ...inScope, dueSince: { not: null } } }),
        ).toBe(0);
      } finally {
        sim.setFaults({ latencyMs: 0 });
        await request(t.baseUrl).post('/api/v1/experience/sync/resume').set(auth);
      }
    });
  });
});

describe('cron tick to stored rows', () => {
  it('syncs today for every product when the quarter-hourly cron fires', async () => {
    const db = await createTestDatabase('inv_synccron');
    const sim = new PartnerSimulator({ rateLimit: 50, windowMs: 1000, apiKey: API_KEY });
    const url = await sim.start(0);
    const t = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: url,
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '50',
      PARTNER_RATE_WINDOW_MS: '1000',
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'false',
      SYNC_TIMEZONE: 'Asia/Kolkata',
      SYNC_CRON_DAILY: NEVER_CRON,
      SYNC_CRON_FOUR_HOURLY: NEVER_CRON,
      SYNC_CRON_QUARTER_HOURLY: '* * * * * *',
      SYNC_CRON_EXTENDED: NEVER_CRON,
    });
    try {
      const prisma = t.app.get(PrismaService);
      // The first occurrence (a tick fires every second, so later ones overlap its fetches).
      const run = await until('the first scheduled run to finish', async () => {
        const first = await prisma.syncRun.findFirst({
          where: { trigger: 'schedule' },
          orderBy: { id: 'asc' },
        });
        return first && first.outcome !== 'running' ? first : null;
      });
      expect(run.outcome).toBe('ok');
      expect(run).toMatchObject({ window: 'quarter-hourly', planned: 2, succeeded: 2 });
      expect(run.occurrence).toBe(`quarter-hourly@${run.scheduledFor.toISOString()}`);
      const today = todayIn('Asia/Kolkata', run.startedAt);
      const syncs = await prisma.productDateSync.findMany({
        where: { date: new Date(`${today}T00:00:00Z`) },
      });
      expect(syncs.map((s) => s.productId).sort()).toEqual([14, 15]);
      expect(
        await prisma.slot.count({ where: { productId: 14, date: new Date(`${today}T00:00:00Z`) } }),
      ).toBe(syncs.find((s) => s.productId === 14)!.slotCount);
    } finally {
      await t.close();
      await sim.stop();
      await db.drop();
    }
  });
});

describe('restart with everything fresh', () => {
  it("records no empty boot run, so each window's last run stays the last real one", async () => {
    const db = await createTestDatabase('inv_syncreboot');
    const sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
    const env = {
      DATABASE_URL: db.url,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '100',
      PARTNER_RATE_WINDOW_MS: '1000',
      PARTNER_MAX_CONCURRENCY: '8',
      SYNC_PRODUCT_IDS: '14',
      SYNC_ON_BOOT: 'true',
      ...QUIET_CRONS,
    };
    const statusOf = async (app: TestApp): Promise<SyncStatus> =>
      (await request(app.baseUrl).get('/api/v1/experience/sync/status').expect(200))
        .body as SyncStatus;
    let t = await startTestApp(env);
    try {
      const prisma = (): PrismaService => t.app.get(PrismaService);
      // The first boot's catch-up marks all 60 dates of product 14 due and syncs them; it is not
      // a run. One real run of the quarter-hourly window follows.
      await until('the boot catch-up to finish', async () => {
        const done = await prisma().productDateSync.count({
          where: { productId: 14, lastSuccessAt: { not: null }, dueSince: null },
        });
        return done === 60;
      });
      const { runId } = await t.app.get(SchedulerService).runNow('quarter-hourly');
      await until('the real run to finish', async () => {
        const r = await prisma().syncRun.findUnique({ where: { id: runId } });
        return r?.outcome === 'ok';
      });
      const first = await statusOf(t);
      const lastRunIds = first.windows.map((w) => w.lastRun?.id ?? null);
      expect(lastRunIds).toContain(runId);
      await t.close();

      const calls = sim.stats().total;
      t = await startTestApp(env);
      await until('this instance to lead', async () => (await statusOf(t)).instance.leader);
      // Give the second boot's catch-up time to (not) record or fetch anything.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const again = await statusOf(t);
      expect(again.windows.map((w) => w.lastRun?.id ?? null)).toEqual(lastRunIds);
      expect(again.recentRuns.filter((r) => r.planned === 0)).toEqual([]);
      // Everything was fresh: the catch-up rule marked nothing and no call went out.
      expect(again.due.total).toBe(0);
      expect(sim.stats().total).toBe(calls);
    } finally {
      await t.close();
      await sim.stop();
      await db.drop();
    }
  });
});
