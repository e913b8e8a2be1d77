import type { ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { QUIET_CRONS } from './support/default-crons';
import { until } from './support/until';
import { startRedisServer, type RedisServer } from './cluster-support/redis-server';
import {
  ADMIN_TOKEN,
  instanceEnv,
  startInstance,
  startSimulator,
  status,
  type SimulatorProcess,
} from './cluster-support/cluster-harness';

interface SharedCacheView {
  state: 'up' | 'degraded';
  connected: boolean;
  breaker: 'closed' | 'open' | 'half-open';
  degradedSince: string | null;
  pendingInvalidations: number;
}

async function readCacheOf(baseUrl: string): Promise<SharedCacheView | null | undefined> {
  const view = (await status(baseUrl)) as unknown as {
    readCache?: { mode: string; shared: SharedCacheView | null };
  };
  return view.readCache?.shared;
}

async function metric(baseUrl: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

interface ReadyBody {
  status: string;
  details?: Record<string, Record<string, unknown> | undefined>;
}

async function ready(baseUrl: string): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${baseUrl}/health/ready`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

/**
 * Two real service processes with REDIS_URL on a private redis-server, one PostgreSQL and the
 * partner simulator. Redis is an optional shared cache: killed or frozen (SIGSTOP), every
 * instance stays ready and says it is degraded, reads skip it once its breaker opens, and a change
 * committed meanwhile is what every instance serves once it answers again.
 */
describe('two instances when their shared Redis fails', () => {
  let db: TestDatabase;
  let sim: SimulatorProcess;
  let redis: RedisServer;
  let frozen = false;
  let paused: ServiceProcess | undefined;
  const nodes: ServiceProcess[] = [];
  const today = new Date().toISOString().slice(0, 10);
  const slotsPath = `/api/v1/experience/15/slots?date=${today}`;

  beforeAll(async () => {
    [db, sim, redis] = await Promise.all([
      createTestDatabase('inv_redisfault'),
      startSimulator({ SIM_RATE_LIMIT: '20', SIM_RATE_WINDOW_MS: '1000' }),
      startRedisServer(),
    ]);
    const shared = { databaseUrl: db.url, partnerUrl: sim.url, redisUrl: redis.url };
    const quiet = { ...QUIET_CRONS, SYNC_ON_BOOT: 'false' };
    nodes.push(
      ...(await Promise.all([
        startInstance(instanceEnv('node-a', shared, quiet)),
        startInstance(instanceEnv('node-b', shared, quiet)),
      ])),
    );
  }, 90000);

  afterAll(async () => {
    if (frozen) redis.child.kill('SIGCONT');
    paused?.child.kill('SIGCONT');
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await sim?.stop();
    await redis?.kill();
    await db?.drop();
  });

  it('stays ready while Redis is gone, says degraded in health, status and metrics, and up once it is back', async () => {
    for (const n of nodes) {
      await until('readiness with redis up', async () => {
        const r = await ready(n.baseUrl);
        return r.status === 200 && r.body.details?.redis?.state !== 'degraded';
      });
    }

    const port = redis.port;
    await redis.kill();
    try {
      for (const n of nodes) {
        let seen: unknown;
        await until(
          () => `readiness to say redis is degraded (last answer: ${JSON.stringify(seen)})`,
          async () => {
            const r = await ready(n.baseUrl);
            seen = { status: r.status, redis: r.body.details?.redis };
            return r.body.details?.redis?.state === 'degraded';
          },
        );
        await degradedEverywhere(n);
      }
    } finally {
      redis = await startRedisServer(port);
    }
    for (const n of nodes) {
      await until(
        'the instance to use redis again',
        async () => (await readCacheOf(n.baseUrl))?.state === 'up',
        15000,
      );
      expect(await metric(n.baseUrl, 'inventory_sync_read_cache_redis_up')).toBe(1);
    }
  });

  async function degradedEverywhere(n: ServiceProcess): Promise<void> {
    {
      const r = await ready(n.baseUrl);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('ok');
      expect(r.body.details?.redis).toMatchObject({
        status: 'up',
        state: 'degraded',
        connected: false,
      });
      expect((await fetch(`${n.baseUrl}/health`)).status).toBe(200);
      expect(await metric(n.baseUrl, 'inventory_sync_read_cache_redis_up')).toBe(0);
      expect((await fetch(`${n.baseUrl}${slotsPath}`)).status).toBe(200);
      expect(await readCacheOf(n.baseUrl)).toMatchObject({ state: 'degraded', connected: false });
    }
  }

  it('with Redis frozen, opens the breaker so reads skip it, and serves a change committed meanwhile on every instance after (the follower first, before the leader could replay)', async () => {
    // Cached in Redis before the freeze.
    const before = await (await fetch(`${nodes[0].baseUrl}${slotsPath}`)).text();
    for (const n of nodes)
      expect(await (await fetch(`${n.baseUrl}${slotsPath}`)).text()).toBe(before);

    redis.child.kill('SIGSTOP');
    frozen = true;
    for (const n of nodes) {
      let seen: unknown;
      await until(
        () => `the redis breaker to open (last seen: ${JSON.stringify(seen)})`,
        async () => {
          // Reads fail over to this instance's LRU and the database meanwhile.
          const started = Date.now();
          const read = await fetch(`${n.baseUrl}${slotsPath}`);
          const r = await ready(n.baseUrl);
          seen = {
            read: read.status,
            readMs: Date.now() - started,
            ready: r.status,
            redis: r.body.details?.redis,
          };
          expect(read.status).toBe(200);
          return (await readCacheOf(n.baseUrl))?.breaker === 'open';
        },
        15000,
      );
      expect(await metric(n.baseUrl, 'inventory_sync_read_cache_redis_breaker_state')).toBe(2);
      const r = await ready(n.baseUrl);
      expect(r.status).toBe(200);
      expect(r.body.details?.redis).toMatchObject({ state: 'degraded', breaker: 'open' });
      // Reads complete while Redis stays frozen (they no longer wait for it).
      const reads = await Promise.all(
        Array.from({ length: 30 }, () => fetch(`${n.baseUrl}${slotsPath}`)),
      );
      expect(reads.map((x) => x.status)).toEqual(reads.map(() => 200));
      expect(await reads[0].text()).toBe(before);
    }

    // A change committed during the freeze: the partner's data changes and a run stores it.
    const providerSlotId = `frozen-redis-${today}`;
    await fetch(`${sim.url}/__sim/inventory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        productId: 15,
        date: today,
        slots: [
          {
            startDate: today,
            startTime: '23:45',
            endTime: '23:59',
            providerSlotId,
            remaining: 3,
            currencyCode: 'SGD',
            variantId: 1,
            paxAvailability: [
              {
                type: 'ADULT',
                name: 'Adult',
                description: 'frozen redis',
                min: 1,
                max: 9,
                remaining: 3,
                isPrimary: true,
                price: { finalPrice: 10, originalPrice: 10, discount: 0, currencyCode: 'SGD' },
              },
            ],
          },
        ],
      }),
    });
    const run = await fetch(`${nodes[0].baseUrl}/api/v1/experience/sync/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ window: 'quarter-hourly', productIds: [15] }),
    });
    expect(run.status).toBe(202);
    const { runId } = (await run.json()) as { runId: number };
    await until(
      'the run finishing',
      async () => {
        const r = (await status(nodes[0].baseUrl)).recentRuns.find((x) => x.id === runId);
        return r && r.outcome !== 'running';
      },
      20000,
    );
    // Through the PostgreSQL signal, every instance's own cache drops the old answer.
    for (const n of nodes) {
      await until('the change to be served during the freeze', async () =>
        (await (await fetch(`${n.baseUrl}${slotsPath}`)).text()).includes(providerSlotId),
      );
    }

    // The leader that stored the change keeps the invalidation Redis missed and replays it; it is
    // paused while Redis comes back, so the follower must not count on that replay.
    const views = await Promise.all(nodes.map((n) => status(n.baseUrl)));
    const leader = nodes[views.findIndex((v) => v.instance.leader)];
    const follower = nodes.find((n) => n !== leader)!;
    expect(leader).toBeDefined();
    leader.child.kill('SIGSTOP');
    paused = leader;
    redis.child.kill('SIGCONT');
    frozen = false;
    await until(
      'the follower to use redis again',
      async () => (await readCacheOf(follower.baseUrl))?.state === 'up',
      15000,
    );
    // Redis still holds the answer cached before the freeze: it must not be served now.
    for (let i = 0; i < 3; i++) {
      expect(await (await fetch(`${follower.baseUrl}${slotsPath}`)).text()).toContain(
        providerSlotId,
      );
    }
    leader.child.kill('SIGCONT');
    paused = undefined;
    await until(
      'the leader to use redis again',
      async () => (await readCacheOf(leader.baseUrl))?.state === 'up',
      15000,
    );
    for (let i = 0; i < 3; i++) {
      for (const n of nodes) {
        expect(await (await fetch(`${n.baseUrl}${slotsPath}`)).text()).toContain(providerSlotId);
      }
    }
    for (const n of nodes) {
      expect(await readCacheOf(n.baseUrl)).toMatchObject({
        breaker: 'closed',
        pendingInvalidations: 0,
      });
    }
  });
});
