import { Logger } from '@nestjs/common';
import { ClusterLeadership } from '../src/cluster/cluster-leadership';
import { ClusterNotifications } from '../src/cluster/cluster-notifications.service';
import { LeaderLeaseRepository, SYNC_LEADER_LEASE } from '../src/cluster/leader-lease.repository';
import { LeaderLeaseService } from '../src/cluster/leader-lease.service';
import { loadConfig } from '../src/config/app-config';
import { PrismaService } from '../src/core/prisma.service';
import { toDbDate } from '../src/inventory/calendar';
import { DueListRepository, SCHEDULED_PRIORITY } from '../src/inventory/due/due-list.repository';
import {
  InventoryEvents,
  type ProductDateChanged,
  type StaleWriteRejected,
} from '../src/inventory/inventory-events';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { productDateStoreOn } from './support/product-date-store';
import { StaleWriteError } from '../src/inventory/sync/stale-write.error';
import { SyncService } from '../src/inventory/sync/sync.service';
import { MetricsService } from '../src/ops/metrics.service';
import { SyncRunMetrics } from '../src/ops/sync-run-metrics';
import { parsePartnerInventory } from '../src/partner/partner-payload';
import type { PartnerInventory } from '../src/partner/partner.types';
import type { WireSlot } from '../src/partner/simulator/simulator-data';
import { DEFAULT_CRONS } from './support/default-crons';
import { startPartnerHarness, type PartnerHarness } from './support/partner-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';

const P = 14;

function slot(date: string, id: string, remaining: number): WireSlot {
  return {
    startDate: date,
    startTime: '10:00',
    endTime: '11:00',
    providerSlotId: `${id}_${date}`,
    remaining,
    currencyCode: 'SGD',
    variantId: 1,
    paxAvailability: [
      {
        type: 'ADULT',
        name: 'Adult',
        description: 'fencing test',
        min: 1,
        max: 9,
        remaining,
        isPrimary: true,
        price: { finalPrice: 10, originalPrice: 10, discount: 0, currencyCode: 'SGD' },
      },
    ],
  };
}

const answer = (date: string, slots: WireSlot[]): PartnerInventory =>
  parsePartnerInventory(structuredClone(slots), date);

/** One instance's lease, leadership port and store, with its own pool, on the shared database. */
interface Instance {
  prisma: PrismaService;
  notifications: ClusterNotifications;
  lease: LeaderLeaseService;
  store: ProductDateStore;
}

/**
 * Everything a write of one product-date can touch: its slots and pax (with row versions), its
 * rendered answer and its whole sync record (due mark, backoff, attempt and success times).
 */
async function snapshot(prisma: PrismaService, date: string): Promise<unknown> {
  const [rows, answer, sync] = await Promise.all([
    prisma.$queryRaw<Array<{ v: string }>>`
      SELECT concat_ws('|', s.provider_slot_id, s.xmin::text, s.remaining, p.type, p.xmin::text) AS v
        FROM slots s LEFT JOIN pax_availability p ON p.slot_id = s.id
       WHERE s.product_id = ${P} AND s.date = ${date}::date ORDER BY 1`,
    prisma.$queryRaw<Array<{ v: string }>>`
      SELECT concat_ws('|', a.xmin::text, a.body) AS v FROM slot_answers a
       WHERE a.product_id = ${P} AND a.date = ${date}::date`,
    prisma.productDateSync.findUnique({
      where: { productId_date: { productId: P, date: toDbDate(date) } },
    }),
  ]);
  return { rows, answer, sync };
}

describe('the fenced store on the real PostgreSQL (two lease holders, one database)', () => {
  beforeAll(() => Logger.overrideLogger(false));
  let db: TestDatabase;
  let harness: PartnerHarness;
  let a: Instance;
  let b: Instance;
  let leadershipA: ClusterLeadership;
  const events = new InventoryEvents();
  const metrics = new MetricsService();
  const runMetrics = new SyncRunMetrics(events, metrics);
  const changes: ProductDateChanged[] = [];
  const rejected: StaleWriteRejected[] = [];
  let syncA: SyncService;
  // A date of its own per test, so no test sees another's stored data.
  let day = 0;
  const nextDate = () => `2030-01-${String(++day).padStart(2, '0')}`;
  const pin = (date: string, slots: WireSlot[]) => harness.simulator.setInventory(P, date, slots);

  async function instance(id: string): Promise<Instance> {
    const config = loadConfig(
      { DATABASE_URL: db.url, INSTANCE_ID: id, LEADER_LEASE_MS: '60000' },
      'demo',
    );
    const connection = { url: db.url, poolSize: 3, kind: 'postgresql' as const };
    const prisma = new PrismaService(connection);
    const notifications = new ClusterNotifications(prisma, connection, config);
    const lease = new LeaderLeaseService(new LeaderLeaseRepository(prisma), notifications, config);
    await lease.onModuleInit();
    const dueList = new DueListRepository(prisma);
    const store = productDateStoreOn(prisma, { dueList, leadership: new ClusterLeadership(lease) });
    return { prisma, notifications, lease, store };
  }

  /** B takes the lease from A as after A's pause: the row expires, B's next attempt takes it. */
  async function takeOver(): Promise<void> {
    await b.prisma.$executeRaw`UPDATE leader_leases SET expires_at = now() - interval '1 ms'
                                 WHERE name = ${SYNC_LEADER_LEASE}`;
    b.lease.attemptSoon();
    await until('b to take the lease', () => b.lease.isLeader(), 5000, 20);
  }

  async function markDue(date: string): Promise<void> {
    await new DueListRepository(a.prisma).markDue({
      scope: { productIds: [P], from: date, to: date },
      reason: 'manual',
      priority: SCHEDULED_PRIORITY,
      freshSince: new Date(),
      today: date,
      policy: buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date(`${date}T00:00:00Z`)),
    });
  }

  const counted = async (reason: string): Promise<number> => {
    const m = (await metrics.registry
      .getSingleMetric('inventory_sync_stale_writes_rejected_total')!
      .get()) as { values: Array<{ labels: { reason?: string }; value: number }> };
    return m.values.find((v) => v.labels.reason === reason)?.value ?? 0;
  };

  beforeAll(async () => {
    db = await createTestDatabase('inv_fence');
    harness = await startPartnerHarness({ sim: { rateLimit: 50, windowMs: 1000 } });
    a = await instance('a');
    b = await instance('b');
    await a.prisma.product.create({ data: { id: P } });
    leadershipA = new ClusterLeadership(a.lease);
    syncA = new SyncService(a.store, harness.gateway, events);
    runMetrics.onModuleInit();
    events.productDateChanged$.subscribe((e) => changes.push(e));
    events.staleWriteRejected$.subscribe((e) => rejected.push(e));
  });

  afterAll(async () => {
    runMetrics.onModuleDestroy();
    await harness?.close();
    for (const i of [a, b]) {
      if (!i) continue;
      await i.lease.stop().catch(() => undefined);
      await i.notifications.onModuleDestroy();
      await i.prisma.onModuleDestroy().catch(() => undefined);
    }
    await db?.drop();
  });

  // Each test starts with A leading (a new term after a takeover by B).
  beforeEach(async () => {
    changes.length = 0;
    rejected.length = 0;
    harness.simulator.setFaults({ latencyMs: 0 });
    if (a.lease.isLeader()) return;
    await b.lease.stop();
    a.lease.attemptSoon();
    await until('a to lead again', () => a.lease.isLeader(), 5000, 20);
    await b.lease.onModuleInit();
  });

  it('accepts a write of the current term: stored, due mark cleared, its fetch time recorded', async () => {
    const date = nextDate();
    await markDue(date);
    pin(date, [slot(date, 'A', 5)]);
    const r = await syncA.syncProductDate(P, date, 'today');
    expect(r.outcome).toBe('changed');
    const sync = await a.prisma.productDateSync.findUniqueOrThrow({
      where: { productId_date: { productId: P, date: toDbDate(date) } },
    });
    expect(sync.dueSince).toBeNull();
    expect(sync.dataFetchedAt).not.toBeNull();
    expect(sync.dataFetchedAt!.getTime()).toBeLessThanOrEqual(sync.lastSuccessAt!.getTime());
    expect(changes).toEqual([{ productId: P, date }]);
    expect(rejected).toEqual([]);
  });

  it('refuses a store whose fetch began before the stored data was fetched, and changes nothing', async () => {
    const date = nextDate();
    pin(date, [slot(date, 'OLD', 1)]);
    // A's fetch starts; the partner answers late.
    harness.simulator.setFaults({ latencyMs: 600 });
    const seen = harness.simulator.stats().perProductDate[`${P}:${date}`] ?? 0;
    const late = syncA.syncProductDate(P, date, 'today');
    await until('the partner to receive the fetch', () => {
      return (harness.simulator.stats().perProductDate[`${P}:${date}`] ?? 0) > seen;
    });
    // Meanwhile a fetch that began later stored newer data, and a tick marked the date due.
    await a.store.store(P, date, answer(date, [slot(date, 'NEW', 2)]), a.store.beginAttempt());
    await markDue(date);
    changes.length = 0;
    const before = await snapshot(a.prisma, date);
    const r = await late;
    expect(r.outcome).toBe('stale');
    expect(await snapshot(a.prisma, date)).toEqual(before);
    expect(changes).toEqual([]);
    expect(rejected).toEqual([{ productId: P, date, reason: 'superseded' }]);
    expect(await counted('superseded')).toBe(1);
  });

  it('refuses a store whose term is no longer the lease holder’s, and changes nothing', async () => {
    const date = nextDate();
    await a.store.store(P, date, answer(date, [slot(date, 'KEPT', 3)]));
    await markDue(date);
    pin(date, [slot(date, 'LATE', 4)]);
    harness.simulator.setFaults({ latencyMs: 600 });
    const seen = harness.simulator.stats().perProductDate[`${P}:${date}`] ?? 0;
    const late = syncA.syncProductDate(P, date, 'today');
    await until('the partner to receive the fetch', () => {
      return (harness.simulator.stats().perProductDate[`${P}:${date}`] ?? 0) > seen;
    });
    // A is paused past its lease: B takes it with a higher fence before A's answer arrives.
    const fenceBefore = BigInt((await a.lease.currentLease())!.fence);
    await takeOver();
    expect(BigInt((await b.lease.currentLease())!.fence)).toBeGreaterThan(fenceBefore);
    changes.length = 0;
    const before = await snapshot(a.prisma, date);
    const r = await late;
    expect(r.outcome).toBe('stale');
    expect(await snapshot(a.prisma, date)).toEqual(before);
    expect(changes).toEqual([]);
    expect(rejected).toEqual([{ productId: P, date, reason: 'fenced' }]);
    expect(await counted('fenced')).toBe(1);
    // The store's check told A's term it is over.
    expect(a.lease.isLeader()).toBe(false);
  });

  it('lets a takeover wait for a store that proved its term, so none commits in between', async () => {
    const date = nextDate();
    const attempt = a.store.beginAttempt();
    // The store's check holds the lease row until its transaction ends.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let checked!: (ok: boolean) => void;
    const check = new Promise<boolean>((r) => (checked = r));
    const tx = a.prisma.$transaction(async (t) => {
      checked(await leadershipA.holdsLeaseTerm(t, attempt.term!));
      await held;
    });
    expect(await check).toBe(true);
    let taken = false;
    const taking = b.prisma.$executeRaw`UPDATE leader_leases SET holder_id = 'b', fence = fence + 1
                                          WHERE name = ${SYNC_LEADER_LEASE}`.then(() => {
      taken = true;
    });
    await until('the takeover to wait on the row lock', async () => {
      const rows = await b.prisma.$queryRaw<Array<{ n: bigint }>>`
        SELECT count(*) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND query LIKE 'UPDATE leader_leases SET holder_id%'`;
      return Number(rows[0].n) > 0;
    });
    expect(taken).toBe(false);
    release();
    await tx;
    await taking;
    // Once committed, a store of A's old term is refused.
    await expect(a.store.store(P, date, answer(date, []), attempt)).rejects.toMatchObject({
      reason: 'fenced',
    });
    // No lease service took that term: let the next test's A take the row.
    await a.prisma.$executeRaw`UPDATE leader_leases SET expires_at = now() - interval '1 ms'`;
  });

  it('does not record a deposed leader’s late failure over the data another instance stored', async () => {
    const date = nextDate();
    await markDue(date);
    harness.simulator.setFaults({ latencyMs: 600, failNext: 1 });
    const seen = harness.simulator.stats().perProductDate[`${P}:${date}`] ?? 0;
    const late = syncA.syncProductDate(P, date, 'today');
    await until('the partner to receive the fetch', () => {
      return (harness.simulator.stats().perProductDate[`${P}:${date}`] ?? 0) > seen;
    });
    await takeOver();
    // B fetches later and stores.
    await b.store.store(P, date, answer(date, [slot(date, 'B', 6)]), b.store.beginAttempt());
    const before = await snapshot(a.prisma, date);
    const r = await late;
    expect(r.outcome).toBe('stale');
    expect(await snapshot(a.prisma, date)).toEqual(before);
    expect(rejected).toEqual([{ productId: P, date, reason: 'superseded' }]);
  });

  it('refuses a failure record of a term that is over, even with no newer data stored', async () => {
    const date = nextDate();
    await markDue(date);
    const attempt = a.store.beginAttempt();
    await takeOver();
    const before = await snapshot(a.prisma, date);
    const err = await a.store
      .recordFailure(P, date, attempt, { outcome: 'timeout', error: 'late' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleWriteError);
    expect(err).toMatchObject({ reason: 'fenced' });
    expect(await snapshot(a.prisma, date)).toEqual(before);
  });
});

describe('the store without a lease (single instance)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let store: ProductDateStore;

  beforeAll(async () => {
    db = await createTestDatabase('inv_fence_solo');
    prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
    await prisma.$connect();
    await prisma.product.create({ data: { id: P } });
    store = productDateStoreOn(prisma);
  });

  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });

  it('checks only the order: an older fetch is refused, an equal or newer one stored', async () => {
    const date = '2030-02-01';
    const t = Date.now();
    const at = (ms: number) => store.beginAttempt(new Date(t + ms));
    expect(at(0).term).toBeNull();
    expect(await store.store(P, date, answer(date, [slot(date, 'X', 1)]), at(0))).toBe(true);
    const before = await snapshot(prisma, date);
    await expect(
      store.store(P, date, answer(date, [slot(date, 'Y', 2)]), at(-1)),
    ).rejects.toMatchObject({ reason: 'superseded' });
    expect(await snapshot(prisma, date)).toEqual(before);
    // Two callers joined on one fetch may share its start.
    expect(await store.store(P, date, answer(date, [slot(date, 'X', 1)]), at(0))).toBe(false);
    expect(await store.store(P, date, answer(date, [slot(date, 'Z', 3)]), at(1))).toBe(true);
  });

  it('allows the first store over a row stored before the fetch time was recorded (NULL)', async () => {
    const date = '2030-02-02';
    await store.store(P, date, answer(date, [slot(date, 'X', 1)]), store.beginAttempt(new Date()));
    await prisma.$executeRaw`UPDATE product_date_syncs SET data_fetched_at = NULL`;
    const older = store.beginAttempt(new Date(Date.now() - 60_000));
    expect(await store.store(P, date, answer(date, [slot(date, 'Y', 2)]), older)).toBe(true);
  });
});
