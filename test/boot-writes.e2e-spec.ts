import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { ClusterNotifications } from '../src/cluster/cluster-notifications.service';
import { LeaderLeaseRepository } from '../src/cluster/leader-lease.repository';
import { LeaderLeaseService } from '../src/cluster/leader-lease.service';
import { DatabaseOutageReporter } from '../src/common/database-unavailable';
import { loadConfig } from '../src/config/app-config';
import { migrate, MIGRATION_LOCK_KEY, readMigrations } from '../src/core/database/migrator';
import { PrismaService } from '../src/core/prisma.service';
import { SyncControlRepository } from '../src/inventory/control/sync-control.repository';
import { DueListRepository, SCHEDULED_PRIORITY } from '../src/inventory/due/due-list.repository';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { ProductsRepository } from '../src/inventory/products/products.repository';
import { ChangeEventsRepository } from '../src/inventory/changes/change-events.repository';
import { SyncRunsService } from '../src/inventory/runs/sync-runs.service';
import { InventoryEvents } from '../src/inventory/inventory-events';
import { DEFAULT_CRONS } from './support/default-crons';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';

/** How many instances boot at once in the Promise.all rounds. */
const N = 5;

/** Records every error a lease attempt reports instead of logging it. */
class RecordingReporter extends DatabaseOutageReporter {
  readonly errors: unknown[] = [];
  report(_source: string, err: unknown): boolean {
    this.errors.push(err);
    return true;
  }
}

/**
 * Every write an instance makes at boot, run by several instances at once on one database, each
 * on its own connection pool. The Promise.all rounds show that nothing throws; the held-row cases
 * force the interleaving that breaks a read-then-write: another instance's row is inserted but
 * not committed when the boot write runs, so the write must wait for it and then keep it.
 */
describe('boot writes of instances starting together (real PostgreSQL)', () => {
  beforeAll(() => Logger.overrideLogger(false));
  let db: TestDatabase;
  let admin: Client;
  const pools: PrismaService[] = [];
  const clients: Client[] = [];
  const leases: LeaderLeaseService[] = [];

  /** One instance's own connection pool. */
  const pool = (): PrismaService => {
    const p = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
    pools.push(p);
    return p;
  };

  /** Ends every instance of the round: leases handed back, pools and open transactions closed. */
  async function closeInstances(): Promise<void> {
    for (const l of leases.splice(0)) await l.stop();
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
    for (const p of pools.splice(0)) await p.onModuleDestroy().catch(() => undefined);
  }

  /** Another instance's transaction, left open until the test commits it. */
  async function openTransaction(url = db.url): Promise<Client> {
    const c = new Client({ connectionString: url });
    await c.connect();
    clients.push(c);
    await c.query('BEGIN');
    return c;
  }

  /** Waits until `n` statements on the database wait for a lock (held by an open transaction). */
  async function blockedOnLock(n: number, url = db.url, event?: string): Promise<void> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await until(`${n} statements waiting for a lock`, async () => {
        const { rows } = await c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
              AND ($1::text IS NULL OR wait_event = $1)`,
          [event ?? null],
        );
        return rows[0].n >= n;
      });
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('inv_bootw');
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });

  afterEach(() => closeInstances());

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  describe('migrations', () => {
    let empty: TestDatabase | undefined;
    afterEach(async () => {
      await empty?.drop();
      empty = undefined;
    });

    it('three migrators on an empty database: each migration is applied once, by one of them', async () => {
      empty = await createTestDatabase('inv_bootw_empty', { migrate: false });
      // Hold the migrators' lock so that all three are waiting for it at the same moment.
      const holder = new Client({ connectionString: empty.url });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        const runs = [1, 2, 3].map(() => migrate(empty!.url));
        await blockedOnLock(3, empty.url, 'advisory');
        await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        const results = await Promise.all(runs);

        const names = readMigrations().map((m) => m.name);
        expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, names.length]);
        expect(results.flatMap((r) => r.applied)).toEqual(names);
        const { rows } = await holder.query<{ migration_name: string; n: number }>(
          `SELECT migration_name, count(*)::int AS n FROM _prisma_migrations
            WHERE finished_at IS NOT NULL GROUP BY migration_name ORDER BY migration_name`,
        );
        expect(rows).toEqual(names.map((name) => ({ migration_name: name, n: 1 })));
      } finally {
        await holder.end();
      }
    });
  });

  describe('sync_control', () => {
    beforeEach(() => admin.query('DELETE FROM sync_control'));

    it(`${N} instances create the control row at once: one row, not paused`, async () => {
      for (let round = 0; round < 5; round++) {
        await closeInstances();
        await admin.query('DELETE FROM sync_control');
        const repos = Array.from({ length: N }, () => new SyncControlRepository(pool()));
        await Promise.all(repos.map((r) => r.ensureRow()));
        const { rows } = await admin.query('SELECT id, paused FROM sync_control');
        expect(rows).toEqual([{ id: 1, paused: false }]);
      }
    });

    it("waits for another instance's uncommitted row and keeps it", async () => {
      const other = await openTransaction();
      await other.query(`INSERT INTO sync_control (id, paused, changed_by) VALUES (1, true, 'b')`);
      const repo = new SyncControlRepository(pool());
      const created = repo.ensureRow();
      await blockedOnLock(1);
      await other.query('COMMIT');
      await created;
      expect(await repo.find()).toMatchObject({ paused: true, changedBy: 'b' });
    });
  });

  /** The products repository on a pool, with its change feed writer. */
  const products = (prisma: PrismaService) =>
    new ProductsRepository(prisma, new ChangeEventsRepository(prisma));

  describe('products', () => {
    beforeEach(() => admin.query('DELETE FROM products'));

    it(`${N} instances listing the same products in different orders register them at once`, async () => {
      const ids = Array.from({ length: 400 }, (_, i) => i + 1);
      for (let round = 0; round < 3; round++) {
        await closeInstances();
        await admin.query('DELETE FROM products');
        const lists = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? ids : [...ids].reverse()));
        await Promise.all(lists.map((list) => products(pool()).register(list)));
        const { rows } = await admin.query<{ n: number; enabled: number }>(
          'SELECT count(*)::int AS n, count(*) FILTER (WHERE enabled)::int AS enabled FROM products',
        );
        expect(rows[0]).toEqual({ n: ids.length, enabled: ids.length });
      }
    });

    it('cannot deadlock with an instance that inserts the same products in another order', async () => {
      // The other instance has inserted 14 and is about to insert 15. Had this one locked 15
      // before waiting for 14, each would wait for the other.
      const other = await openTransaction();
      await other.query('INSERT INTO products (id, enabled) VALUES (14, false)');
      const registered = products(pool()).register([15, 14]);
      await blockedOnLock(1);
      await other.query('INSERT INTO products (id) VALUES (15)');
      await other.query('COMMIT');
      await registered;
      const { rows } = await admin.query('SELECT id, enabled FROM products ORDER BY id');
      expect(rows).toEqual([
        { id: 14, enabled: true },
        { id: 15, enabled: true },
      ]);
    });
  });

  describe('the leader lease', () => {
    const lease = (id: string, reporter: RecordingReporter): LeaderLeaseService => {
      const config = loadConfig({ DATABASE_URL: db.url, INSTANCE_ID: id }, 'demo');
      const prisma = pool();
      const connection = { url: db.url, poolSize: 2, kind: 'postgresql' as const };
      const l = new LeaderLeaseService(
        new LeaderLeaseRepository(prisma),
        new ClusterNotifications(prisma, connection, config),
        config,
        reporter,
      );
      leases.push(l);
      return l;
    };
    beforeEach(() => admin.query('DELETE FROM leader_leases'));

    it(`${N} instances on an empty lease table: one leader, one term, every attempt answered`, async () => {
      for (let round = 0; round < 5; round++) {
        await closeInstances();
        await admin.query('DELETE FROM leader_leases');
        const reporter = new RecordingReporter();
        const all = Array.from({ length: N }, (_, i) => lease(`i${round}-${i}`, reporter));
        await Promise.all(all.map((l) => l.onModuleInit()));
        const leaders = all.filter((l) => l.isLeader());
        expect(leaders).toHaveLength(1);
        const { rows } = await admin.query('SELECT holder_id, fence FROM leader_leases');
        expect(rows).toEqual([{ holder_id: leaders[0].instanceId, fence: '1' }]);
        // A follower whose insert waited for the winner's retries at once and learns its name.
        await until('every follower to know the leader', () =>
          all.every((l) => l.knownLeader()?.id === leaders[0].instanceId),
        );
        expect(reporter.errors).toEqual([]);
      }
    });

    it("waits for another instance's uncommitted lease and follows it", async () => {
      const other = await openTransaction();
      await other.query(
        `INSERT INTO leader_leases (name, holder_id, fence, acquired_at, renewed_at, expires_at)
         VALUES ('sync-leader', 'b', 1, now(), now(), now() + interval '1 minute')`,
      );
      const reporter = new RecordingReporter();
      const a = lease('a', reporter);
      const booted = a.onModuleInit();
      await blockedOnLock(1);
      await other.query('COMMIT');
      await booted;
      expect(a.isLeader()).toBe(false);
      await until('a to know that b leads', () => a.knownLeader()?.id === 'b');
      expect(reporter.errors).toEqual([]);
    });
  });

  describe("a window occurrence's run row", () => {
    const events = new InventoryEvents();
    const runs = (): SyncRunsService => {
      const prisma = pool();
      return new SyncRunsService(prisma, new DueListRepository(prisma), events);
    };
    const start = (service: SyncRunsService, occurrence: string) =>
      service.start({
        window: 'quarter-hourly',
        trigger: 'schedule',
        scheduledFor: new Date('2026-12-01T12:00:00Z'),
        scope: { productIds: [14], from: '2026-12-01', to: '2026-12-01' },
        occurrence,
        instanceId: 'test',
      });
    beforeEach(() => admin.query('DELETE FROM sync_runs'));

    it(`${N} instances recording the same occurrence at once: one run`, async () => {
      const ids = await Promise.all(
        Array.from({ length: N }, () => start(runs(), 'quarter-hourly@race')),
      );
      expect(ids.filter((id) => id !== null)).toHaveLength(1);
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM sync_runs');
      expect(rows[0].n).toBe(1);
    });

    it("waits for another instance's uncommitted run of the occurrence and records none", async () => {
      const other = await openTransaction();
      await other.query(
        `INSERT INTO sync_runs ("window", "trigger", scheduled_for, outcome, occurrence)
         VALUES ('quarter-hourly', 'schedule', now(), 'running', 'quarter-hourly@held')`,
      );
      const recorded = start(runs(), 'quarter-hourly@held');
      await blockedOnLock(1);
      await other.query('COMMIT');
      expect(await recorded).toBeNull();
    });
  });

  describe("the leader's boot catch-up", () => {
    beforeEach(async () => {
      await admin.query('DELETE FROM products');
      await admin.query('INSERT INTO products (id) VALUES (14), (15)');
    });

    it(`${N} overlapping catch-up marks at once: one due row per product-date`, async () => {
      const today = new Date().toISOString().slice(0, 10);
      const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date());
      const results = await Promise.all(
        Array.from({ length: N }, () =>
          new DueListRepository(pool()).markDue({
            scope: { productIds: [14, 15], from: today, to: today },
            reason: 'boot',
            priority: SCHEDULED_PRIORITY,
            freshSince: null,
            today,
            policy,
          }),
        ),
      );
      // Marks are serialised: the first finds nothing shared, every later one finds both due.
      expect(results.map((r) => r.shared).sort()).toEqual([0, 2, 2, 2, 2]);
      expect(results.map((r) => r.due)).toEqual(Array(N).fill(2));
      const { rows } = await admin.query(
        'SELECT product_id, count(*)::int AS n FROM product_date_syncs WHERE due_since IS NOT NULL GROUP BY product_id ORDER BY product_id',
      );
      expect(rows).toEqual([
        { product_id: 14, n: 1 },
        { product_id: 15, n: 1 },
      ]);
    });
  });
});
