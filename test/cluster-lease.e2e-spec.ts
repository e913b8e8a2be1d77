import { Logger } from '@nestjs/common';
import { firstValueFrom, take, toArray } from 'rxjs';
import { ClusterNotifications } from '../src/cluster/cluster-notifications.service';
import { LeaderLeaseRepository, SYNC_LEADER_LEASE } from '../src/cluster/leader-lease.repository';
import { LeaderLeaseService } from '../src/cluster/leader-lease.service';
import { NotLeaderError } from '../src/cluster/not-leader.error';
import { DEMO_PARTNER_API_KEY, loadConfig } from '../src/config/app-config';
import { keyFingerprint } from '../src/core/rate-limiter/partner-keys';
import { PrismaService } from '../src/core/prisma.service';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';

/** Two (or more) lease services in this process, each with its own pool, on one database. */
interface Instance {
  id: string;
  prisma: PrismaService;
  notifications: ClusterNotifications;
  lease: LeaderLeaseService;
}

/** The demo's one key: its calls are published under its fingerprint. */
const KEY = keyFingerprint(DEMO_PARTNER_API_KEY);
const callsOf = (lease: Awaited<ReturnType<LeaderLeaseService['currentLease']>>): number[] => {
  const calls = lease?.state?.calls;
  return Array.isArray(calls) ? calls : (calls?.[KEY] ?? []);
};

describe('LeaderLeaseService on the real PostgreSQL', () => {
  beforeAll(() => Logger.overrideLogger(false));
  let db: TestDatabase;
  const started: Instance[] = [];

  async function instance(
    id: string,
    env: Record<string, string> = {},
    start = true,
  ): Promise<Instance> {
    const config = loadConfig(
      {
        DATABASE_URL: db.url,
        INSTANCE_ID: id,
        LEADER_LEASE_MS: '1500',
        PARTNER_RATE_LIMIT: '3',
        PARTNER_RATE_WINDOW_MS: '1500',
        ...env,
      },
      'demo',
    );
    const connection = { url: db.url, poolSize: 2, kind: 'postgresql' as const };
    const prisma = new PrismaService(connection);
    const notifications = new ClusterNotifications(prisma, connection, config);
    const lease = new LeaderLeaseService(new LeaderLeaseRepository(prisma), notifications, config);
    const inst = { id, prisma, notifications, lease };
    started.push(inst);
    if (start) await lease.onModuleInit();
    return inst;
  }

  beforeAll(async () => {
    db = await createTestDatabase('inv_lease');
  });

  afterEach(async () => {
    for (const i of started.splice(0)) {
      await i.lease.stop().catch(() => undefined);
      await i.notifications.onModuleDestroy();
      await i.prisma.onModuleDestroy().catch(() => undefined);
    }
    await new PrismaService({ url: db.url, poolSize: 1, kind: 'postgresql' })
      .$executeRaw`DELETE FROM leader_leases`;
  });

  afterAll(async () => {
    await db.drop();
  });

  it('makes exactly one of three instances sharing a database the leader', async () => {
    const all = await Promise.all(['a', 'b', 'c'].map((id) => instance(id)));
    expect(all.filter((i) => i.lease.isLeader())).toHaveLength(1);
    const leader = all.find((i) => i.lease.isLeader())!;
    const view = await all[2].lease.currentLease();
    expect(view).toMatchObject({ holderId: leader.id, valid: true, fence: '1' });
    // Followers keep their attempts going for a while and still do not lead.
    await new Promise((r) => setTimeout(r, 1200));
    expect(all.filter((i) => i.lease.isLeader()).map((i) => i.id)).toEqual([leader.id]);
  });

  it('lets a follower take over with a higher fence when the leader loses the database', async () => {
    const a = await instance('a');
    const b = await instance('b');
    expect(a.lease.isLeader()).toBe(true);
    // A's pool ends: its renewals fail from now on, as with a network cut to PostgreSQL.
    await a.prisma.onModuleDestroy();
    await until('b to take over', () => b.lease.isLeader(), 6000, 20);
    expect(a.lease.isLeader()).toBe(false);
    const view = await b.lease.currentLease();
    expect(view).toMatchObject({ holderId: 'b', fence: '2', valid: true });
  });

  it('refuses the partner-call guard of an old leader once another instance holds the lease', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await a.lease.beforePartnerCall(KEY);
    // A "pauses" past its lease (simulated by expiring the row) and B takes over meanwhile.
    await a.prisma.$executeRaw`UPDATE leader_leases SET expires_at = now() - interval '1 ms'
                                 WHERE name = ${SYNC_LEADER_LEASE}`;
    b.lease.attemptSoon();
    await until('b to lead', () => b.lease.isLeader(), 3000, 20);
    expect(a.lease.isLeader()).toBe(true); // A's local clock has not noticed yet…
    await expect(a.lease.beforePartnerCall(KEY)).rejects.toBeInstanceOf(NotLeaderError);
    expect(a.lease.isLeader()).toBe(false); // …the fenced write told it.
    await expect(a.lease.assertLeader()).rejects.toThrow(/not the sync leader \(the leader is b\)/);
  });

  it('assertLeader re-checks the database and demotes a leader whose row was taken', async () => {
    const a = await instance('a');
    await a.prisma.$executeRaw`UPDATE leader_leases SET holder_id = 'intruder', fence = fence + 1
                                 WHERE name = ${SYNC_LEADER_LEASE}`;
    await new Promise((r) => setTimeout(r, a.lease.timing.revalidateEveryMs + 50));
    await expect(a.lease.assertLeader()).rejects.toBeInstanceOf(NotLeaderError);
    expect(a.lease.isLeader()).toBe(false);
  });

  it('hands the lease over at once when the leader stops gracefully', async () => {
    const a = await instance('a', { LEADER_LEASE_MS: '20000' });
    const b = await instance('b', { LEADER_LEASE_MS: '20000' });
    expect(a.lease.isLeader()).toBe(true);
    await a.lease.stop();
    expect((await b.lease.currentLease())?.valid).toBe(false);
    b.lease.attemptSoon();
    // Far less than the 20 s lease: only the release explains it.
    await until('b to lead', () => b.lease.isLeader(), 3000, 20);
    expect((await b.lease.currentLease())?.holderId).toBe('b');
  });

  it('tells the other instances when it hands the lease back, and only then', async () => {
    const a = await instance('a', { LEADER_LEASE_MS: '20000' });
    const b = await instance('b', { LEADER_LEASE_MS: '20000' });
    const observer = await instance('observer', {}, false);
    await observer.notifications.onModuleInit();
    const received: string[] = [];
    observer.notifications.messages$.subscribe((m) => received.push(`${m.type} from ${m.from}`));
    // A follower has no term to hand back: it stays silent.
    await b.lease.stop();
    await a.lease.stop();
    await until('the release to reach the observer', () => received.length > 0, 3000, 20);
    expect(received).toEqual(['lease-released from a']);
  });

  it('announces gained and lost leadership as events', async () => {
    const a = await instance('a', {}, false);
    const events = firstValueFrom(a.lease.leadership$.pipe(take(3), toArray()));
    await a.lease.onModuleInit();
    await a.lease.stop();
    expect((await events).map((e) => e.leader)).toEqual([false, true, false]);
  });

  it('makes a new leader wait for budget its predecessor spent in the same window', async () => {
    const a = await instance('a', { PARTNER_RATE_LIMIT: '3', PARTNER_RATE_WINDOW_MS: '1500' });
    const b = await instance('b', { PARTNER_RATE_LIMIT: '3', PARTNER_RATE_WINDOW_MS: '1500' });
    for (let i = 0; i < 3; i++) await a.lease.beforePartnerCall(KEY);
    const aCalls = callsOf(await a.lease.currentLease());
    expect(aCalls).toHaveLength(3);
    await a.lease.stop();
    b.lease.attemptSoon();
    await until('b to lead', () => b.lease.isLeader(), 3000, 20);
    await b.lease.beforePartnerCall(KEY);
    const bCalls = callsOf(await b.lease.currentLease());
    const bFirst = bCalls[bCalls.length - 1];
    // The key allows 3 calls per 1500 ms and A spent them: B's first call waits for the window.
    expect(bFirst - aCalls[0]).toBeGreaterThanOrEqual(1500);
  });

  it('takes over a lease left by a previous process with the same INSTANCE_ID as a new term', async () => {
    const old = await instance('same');
    const fenceBefore = old.lease.fence;
    // The restarted process (same id) must not inherit the old term: its fence moves on.
    const again = await instance('same');
    expect(again.lease.isLeader()).toBe(true);
    expect(Number(again.lease.fence)).toBe(Number(fenceBefore) + 1);
    await expect(old.lease.beforePartnerCall(KEY)).rejects.toBeInstanceOf(NotLeaderError);
  });
});
