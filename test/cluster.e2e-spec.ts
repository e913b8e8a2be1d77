import { Client } from 'pg';
import type { ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';
import { startRedisServer, type RedisServer } from './cluster-support/redis-server';
import {
  ADMIN_TOKEN,
  instanceEnv,
  partnerCallsOf,
  startInstance,
  startSimulator,
  status,
  type SimulatorProcess,
} from './cluster-support/cluster-harness';

/**
 * Three real service processes (dist/main.js) on one fresh PostgreSQL, the project's partner
 * simulator as its own process (5 requests per 1000 ms) and a private redis-server. Steps run in
 * order and share the cluster; each names the property it checks.
 */
describe('three instances on one PostgreSQL', () => {
  const LEASE_MS = 3000;
  let db: TestDatabase;
  let sim: SimulatorProcess;
  let redis: RedisServer;
  const nodes = new Map<string, ServiceProcess>();
  let shared: { databaseUrl: string; partnerUrl: string; redisUrl: string };
  const today = new Date().toISOString().slice(0, 10);

  async function leaderId(): Promise<string> {
    return until(
      'exactly one leader named by every instance',
      async () => {
        const views = await Promise.all([...nodes.values()].map((n) => status(n.baseUrl)));
        const leaders = views.filter((v) => v.instance.leader);
        const named = new Set(views.map((v) => v.leader?.id));
        return leaders.length === 1 &&
          named.size === 1 &&
          leaders[0].instance.id === views[0].leader?.id
          ? leaders[0].instance.id
          : undefined;
      },
      LEASE_MS * 5,
    );
  }

  beforeAll(async () => {
    [db, sim, redis] = await Promise.all([
      createTestDatabase('inv_cluster'),
      startSimulator({ SIM_RATE_LIMIT: '5', SIM_RATE_WINDOW_MS: '1000' }),
      startRedisServer(),
    ]);
    shared = { databaseUrl: db.url, partnerUrl: sim.url, redisUrl: redis.url };
    const started = await Promise.all(
      ['node-a', 'node-b', 'node-c'].map((id) => startInstance(instanceEnv(id, shared))),
    );
    ['node-a', 'node-b', 'node-c'].forEach((id, i) => nodes.set(id, started[i]));
  }, 90000);

  afterAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop('SIGKILL')));
    await sim?.stop();
    await redis?.kill();
    await db?.drop();
  });

  it('elects exactly one leader, and every instance reports the same leader and since', async () => {
    // leaderId() waits until exactly one instance leads and all three name it.
    const id = await leaderId();
    expect(['node-a', 'node-b', 'node-c']).toContain(id);
    // Followers show the leader's queue, not their own empty one.
    await until(
      'a follower showing the leader queue',
      async () => {
        const follower = [...nodes.entries()].find(([n]) => n !== id)![1];
        const limiter = (await status(follower.baseUrl)).limiter;
        return limiter.queued + limiter.running > 0;
      },
      // The leader publishes with each renewal and followers read it at theirs; a loaded machine
      // stretches both, so allow several lease periods.
      LEASE_MS * 6,
    );
    // A manual run sent to a follower is marked in the shared due list there, recorded under the
    // follower's id, and fetched by the leader.
    const [followerId, follower] = [...nodes.entries()].find(([n]) => n !== id)!;
    const run = await fetch(`${follower.baseUrl}/api/v1/experience/sync/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ window: 'quarter-hourly' }),
    });
    expect(run.status).toBe(202);
    const started = (await run.json()) as { runId: number; marked: number; requestedBy: string };
    // quarter-hourly = today, for products 14, 15 and 16. One the leader stored between the run's
    // start and its mark already has data newer than the request, and is not marked again.
    expect(started.requestedBy).toBe(followerId);
    expect(started.marked).toBeGreaterThanOrEqual(1);
    expect(started.marked).toBeLessThanOrEqual(3);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const row = await until(
        "the leader finishing the follower's run",
        async () => {
          const r = await c.query<{ instance_id: string; outcome: string; succeeded: number }>(
            `SELECT instance_id, outcome, succeeded FROM sync_runs WHERE id = $1`,
            [started.runId],
          );
          return r.rows[0]?.outcome === 'running' ? undefined : r.rows[0];
        },
        20000,
      );
      expect(row).toMatchObject({ instance_id: followerId, outcome: 'ok' });
      expect(row.succeeded).toBeGreaterThanOrEqual(started.marked);
    } finally {
      await c.end();
    }
  });

  it('pausing on a follower stops partner calls from the leader within one second', async () => {
    const id = await leaderId();
    const follower = [...nodes.entries()].find(([n]) => n !== id)![1];
    await until('the leader syncing', async () => (await sim.stats()).total >= 3, 15000);
    const res = await fetch(`${follower.baseUrl}/api/v1/experience/sync/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'cluster test' }),
    });
    expect(res.status).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 1000));
    const atOneSecond = (await sim.stats()).total;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await sim.stats()).total).toBe(atOneSecond);
    const resumed = await fetch(`${follower.baseUrl}/api/v1/experience/sync/resume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(resumed.status).toBeLessThan(300);
  });

  it('kill -9 of the leader: another takes over within the lease time and keeps syncing', async () => {
    const oldId = await leaderId();
    // Resume reaches the leader within a second; then the catch-up goes on.
    await until(
      'syncing after resume',
      async () => {
        const before = (await sim.stats()).total;
        await new Promise((r) => setTimeout(r, 400));
        return (await sim.stats()).total > before;
      },
      5000,
    );
    const old = nodes.get(oldId)!;
    await old.stop('SIGKILL');
    const killedAt = Date.now();
    const callsAtKill = (await sim.stats()).total;
    nodes.delete(oldId);
    const newId = await leaderId();
    expect(newId).not.toBe(oldId);
    // Lease time after the last renewal, plus a renewal period and the status round trips.
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS * 2);
    await until(
      'the new leader calling the partner',
      async () => (await sim.stats()).total > callsAtKill + 2,
      10000,
    );
    // Restart the old instance under the same id: it must stay quiet while another leads.
    const again = await startInstance(instanceEnv(oldId, shared));
    nodes.set(oldId, again);
    await new Promise((r) => setTimeout(r, LEASE_MS + 1000));
    expect((await status(again.baseUrl)).instance.leader).toBe(false);
    expect(await partnerCallsOf(again.baseUrl)).toBe(0);
  }, 120000);

  it('never ran a window occurrence twice, refetched no fresh product-date, and kept the budget', async () => {
    const stats = await sim.stats();
    expect(stats.busiestWindow).toBeLessThanOrEqual(5);
    expect(stats.byStatus['429'] ?? 0).toBe(0);
    // Today is refreshed by every quarter-hourly tick; any other product-date is fetched once,
    // except those in flight when a leader died: at most the concurrency (2) per change of
    // leader (each takeover increments the lease's fence).
    const repeated = Object.entries(stats.perProductDate).filter(
      ([key, n]) => n > 1 && !key.endsWith(`:${today}`),
    );
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const lease = await c.query<{ fence: string }>(`SELECT fence FROM leader_leases`);
      const takeovers = Number(lease.rows[0].fence) - 1;
      expect(takeovers).toBeGreaterThanOrEqual(1);
      expect(repeated.length).toBeLessThanOrEqual(2 * takeovers);
      const { rows } = await c.query<{ window: string; scheduled_for: Date; n: string }>(
        `SELECT "window", scheduled_for, count(*) AS n FROM sync_runs
          WHERE trigger = 'schedule' GROUP BY 1, 2 HAVING count(*) > 1`,
      );
      expect(rows).toEqual([]);
      const scheduled = await c.query(`SELECT 1 FROM sync_runs WHERE trigger = 'schedule'`);
      expect(scheduled.rowCount).toBeGreaterThan(0);
    } finally {
      await c.end();
    }
  });

  it('a read on a follower reflects a sync by the leader at once (shared cache invalidated)', async () => {
    const id = await leaderId();
    const leader = nodes.get(id)!;
    const follower = [...nodes.entries()].find(([n]) => n !== id)![1];
    const url = `${follower.baseUrl}/api/v1/experience/15/slots?date=${today}`;
    const before = await fetch(url);
    expect(before.status).toBe(200);
    const cachedBody = await before.text();
    await fetch(url); // cached now
    const pinned = {
      startDate: today,
      startTime: '23:45',
      endTime: '23:59',
      providerSlotId: `cluster-test-${today}`,
      remaining: 7,
      currencyCode: 'SGD',
      variantId: 1,
      paxAvailability: [
        {
          type: 'ADULT',
          name: 'Adult',
          description: 'cluster test',
          min: 1,
          max: 9,
          remaining: 7,
          isPrimary: true,
          price: { finalPrice: 10, originalPrice: 10, discount: 0, currencyCode: 'SGD' },
        },
      ],
    };
    await fetch(`${sim.url}/__sim/inventory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 15, date: today, slots: [pinned] }),
    });
    // A run that starts after the pin (not one already going, which may have fetched before it).
    const runId = await until(
      'a fresh manual run',
      async () => {
        const run = await fetch(`${leader.baseUrl}/api/v1/experience/sync/run`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ window: 'quarter-hourly', productIds: [15] }),
        });
        expect(run.status).toBe(202);
        const body = (await run.json()) as { runId: number; alreadyRunning: boolean };
        if (body.alreadyRunning) await new Promise((r) => setTimeout(r, 200));
        return body.alreadyRunning ? undefined : body.runId;
      },
      30000,
    );
    await until(
      'the manual run finishing',
      async () => {
        const r = (await status(leader.baseUrl)).recentRuns.find((x) => x.id === runId);
        return r && r.outcome !== 'running';
      },
      20000,
    );
    const finished = (await status(leader.baseUrl)).recentRuns.find((r) => r.id === runId);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const stored = await c
      .query(`SELECT 1 FROM slots WHERE provider_slot_id = $1`, [`cluster-test-${today}`])
      .finally(() => c.end());
    expect({ outcome: finished?.outcome, stored: stored.rowCount }).toEqual({
      outcome: 'ok',
      stored: 1,
    });
    const after = await (await fetch(url)).text();
    expect(after).not.toBe(cachedBody);
    expect(after).toContain(`cluster-test-${today}`);
  });

  it('keeps answering reads with 200 after Redis is stopped', async () => {
    await redis.kill();
    for (const n of nodes.values()) {
      const res = await fetch(`${n.baseUrl}/api/v1/experience/15/slots?date=${today}`);
      expect(res.status).toBe(200);
      const dates = await fetch(`${n.baseUrl}/api/v1/experience/14/dates`);
      expect(dates.status).toBe(200);
    }
  });
});
