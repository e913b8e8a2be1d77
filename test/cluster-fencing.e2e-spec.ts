import { Client } from 'pg';
import type { ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';
import {
  ADMIN_TOKEN,
  instanceEnv,
  startInstance,
  startSimulator,
  status,
  type SimulatorProcess,
} from './cluster-support/cluster-harness';

const P = 14;
/** Never within a test run: only the manual run below marks anything due. */
const NEVER = '0 0 1 1 *';

/** inventory_sync_stale_writes_rejected_total summed over its reasons, from /metrics. */
async function staleWritesRejected(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('inventory_sync_stale_writes_rejected_total')) {
      sum += Number(line.split(' ').pop());
    }
  }
  return sum;
}

/**
 * Issue 24, item 1, with two real service processes on one PostgreSQL and the simulator as its
 * own process: the leader fetches a product-date at a partner latency longer than its lease and
 * is frozen (SIGSTOP) while the request is out; the partner's data changes; the follower takes
 * the lease and stores the new data; the old leader is resumed (SIGCONT) with the old answer in
 * its socket. Its store must be refused, so that both instances keep serving the new data.
 */
describe('a late answer of a deposed leader (SIGSTOP/SIGCONT, two processes)', () => {
  const LEASE_MS = 2000;
  const LATENCY_MS = 2500;
  let db: TestDatabase;
  let sim: SimulatorProcess;
  const nodes = new Map<string, ServiceProcess>();
  const today = new Date().toISOString().slice(0, 10);
  const pinnedId = `fencing-new-${today}`;
  const slotsUrl = (n: ServiceProcess) => `${n.baseUrl}/api/v1/experience/${P}/slots?date=${today}`;
  const servesNew = async (n: ServiceProcess) =>
    (await (await fetch(slotsUrl(n))).text()).includes(pinnedId);

  beforeAll(async () => {
    [db, sim] = await Promise.all([
      createTestDatabase('inv_fencing'),
      startSimulator({ SIM_RATE_LIMIT: '5', SIM_RATE_WINDOW_MS: '1000' }),
    ]);
    const shared = { databaseUrl: db.url, partnerUrl: sim.url };
    const extra = {
      LEADER_LEASE_MS: String(LEASE_MS),
      // Longer than the freeze: the old leader's call is answered, not timed out, on resume.
      PARTNER_TIMEOUT_MS: '60000',
      SYNC_PRODUCT_IDS: String(P),
      SYNC_ON_BOOT: 'false',
      SYNC_CRON_QUARTER_HOURLY: NEVER,
      SYNC_CRON_FOUR_HOURLY: NEVER,
      SYNC_CRON_DAILY: NEVER,
      SYNC_CRON_EXTENDED: NEVER,
    };
    // The first one leads; the second follows.
    nodes.set('node-a', await startInstance(instanceEnv('node-a', shared, extra)));
    nodes.set('node-b', await startInstance(instanceEnv('node-b', shared, extra)));
  }, 90000);

  afterAll(async () => {
    for (const n of nodes.values()) {
      n.child.kill('SIGCONT');
      await n.stop('SIGKILL');
    }
    await sim?.stop();
    await db?.drop();
  });

  it('refuses the old answer: both instances serve the new data, one stale write counted', async () => {
    const leaderId = await until(
      'one leader named by both instances',
      async () => {
        const views = await Promise.all([...nodes.values()].map((n) => status(n.baseUrl)));
        const leaders = views.filter((v) => v.instance.leader);
        return leaders.length === 1 && views.every((v) => v.leader?.id === leaders[0].instance.id)
          ? leaders[0].instance.id
          : undefined;
      },
      LEASE_MS * 10,
    );
    const leader = nodes.get(leaderId)!;
    const follower = [...nodes.entries()].find(([id]) => id !== leaderId)![1];
    const key = `${P}:${today}`;
    const before = await sim.stats();
    const asked = before.perProductDate[key] ?? 0;
    const answered200 = before.byStatus['200'] ?? 0;

    await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: LATENCY_MS }),
    });
    const run = await fetch(`${leader.baseUrl}/api/v1/experience/sync/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ window: 'quarter-hourly', productIds: [P] }),
    });
    expect(run.status).toBe(202);

    // The leader's call is out: freeze the leader while the partner works on it.
    await until('the leader to ask the partner', async () => {
      return ((await sim.stats()).perProductDate[key] ?? 0) > asked;
    });
    leader.child.kill('SIGSTOP');
    // The partner answers (old data) into the frozen leader's socket; then its data changes.
    await until('the partner to answer the frozen leader', async () => {
      return ((await sim.stats()).byStatus['200'] ?? 0) > answered200;
    });
    const pinned = {
      startDate: today,
      startTime: '23:00',
      endTime: '23:59',
      providerSlotId: pinnedId,
      remaining: 7,
      currencyCode: 'SGD',
      variantId: 1,
      paxAvailability: [
        {
          type: 'ADULT',
          name: 'Adult',
          description: 'after the change',
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
      body: JSON.stringify({ productId: P, date: today, slots: [pinned] }),
    });

    // The follower takes the lease, fetches the product-date still due and serves the new data.
    await until('the follower to serve the new data', () => servesNew(follower), 30000, 200);

    leader.child.kill('SIGCONT');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      // The old leader has handled its late answer: refused (counted), or stored over the new data.
      await until(
        'the old leader to handle its late answer',
        async () => {
          if ((await staleWritesRejected(leader.baseUrl)) > 0) return true;
          const r = await c.query(`SELECT 1 FROM slots WHERE provider_slot_id = $1`, [pinnedId]);
          return r.rowCount === 0;
        },
        30000,
        100,
      );
      const served = await Promise.all([leader, follower].map((n) => servesNew(n)));
      const sync = await c.query<{ due_since: Date | null }>(
        `SELECT due_since FROM product_date_syncs WHERE product_id = $1 AND date = $2::date`,
        [P, today],
      );
      expect({
        servesNewData: served,
        staleWritesRejected: {
          oldLeader: await staleWritesRejected(leader.baseUrl),
          newLeader: await staleWritesRejected(follower.baseUrl),
        },
        due: sync.rows[0]?.due_since ?? null,
      }).toEqual({
        servesNewData: [true, true],
        staleWritesRejected: { oldLeader: 1, newLeader: 0 },
        due: null,
      });
      expect(leader.output()).toMatch(/"msg":"stale write rejected".*"productId":14/);
    } finally {
      await c.end();
    }
  });
});
