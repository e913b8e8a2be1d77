import { Client } from 'pg';
import { readMigrations } from '../src/core/database/migrator';
import { status } from './cluster-support/cluster-harness';
import { QUIET_CRONS } from './support/default-crons';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import { createTestDatabase } from './support/test-database';
import { until } from './support/until';

const ROUNDS = 10;
const IDS = ['boot-a', 'boot-b', 'boot-c'];

/** One replica of a Deployment: the same configuration but its name. */
function replicaEnv(id: string, databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    // Never called: nothing is due (no boot catch-up, crons that do not fire during the test).
    PARTNER_API_URL: 'http://127.0.0.1:9',
    PARTNER_API_KEY: 'cluster-boot-key',
    INSTANCE_ID: id,
    SYNC_ON_BOOT: 'false',
    SYNC_PRODUCT_IDS: '14,15',
    ...QUIET_CRONS,
    // startServiceProcess waits for the "listening" line.
    LOG_LEVEL: 'info',
  };
}

/**
 * Three real processes started in the same instant on one empty database, as a Kubernetes
 * Deployment with 3 replicas starts: they migrate, take the lease and write their boot rows at
 * the same moment. Every round has a fresh database.
 */
describe('three instances booting together on an empty database', () => {
  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(
    'round %i: all become ready, exactly one leads, none exits',
    async () => {
      const db = await createTestDatabase('inv_boot', { migrate: false });
      const started: ServiceProcess[] = [];
      try {
        // startServiceProcess spawns before its first await: the three start in the same tick.
        const boots = await Promise.allSettled(
          // A loaded machine stretches a boot well past its usual 2 s: a generous bound.
          IDS.map((id) => startServiceProcess(replicaEnv(id, db.url), [], 90_000)),
        );
        for (const b of boots) if (b.status === 'fulfilled') started.push(b.value);
        expect(boots.filter((b) => b.status === 'rejected').map((b) => String(b.reason))).toEqual(
          [],
        );

        await Promise.all(
          started.map((p, i) =>
            until(
              () => `${IDS[i]} to be ready:\n${p.output().slice(-2000)}`,
              async () => (await fetch(`${p.baseUrl}/health/ready`)).status === 200,
            ),
          ),
        );
        const views = await Promise.all(started.map((p) => status(p.baseUrl)));
        const leaders = views.filter((v) => v.instance.leader).map((v) => v.instance.id);
        expect(leaders).toHaveLength(1);
        // Every instance names the same leader.
        expect(views.map((v) => v.leader?.id)).toEqual(IDS.map(() => leaders[0]));

        const pg = new Client({ connectionString: db.url });
        await pg.connect();
        try {
          const one = async (sql: string): Promise<unknown> => (await pg.query(sql)).rows;
          expect({
            migrations: await one(
              'SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY 1 ORDER BY 1',
            ),
            control: await one('SELECT id, paused FROM sync_control'),
            products: await one('SELECT id, enabled FROM products ORDER BY id'),
            // Fence 1: one term, nobody took the lease over during the boot.
            lease: await one('SELECT holder_id, fence FROM leader_leases'),
          }).toEqual({
            migrations: readMigrations().map((m) => ({ migration_name: m.name, n: 1 })),
            control: [{ id: 1, paused: false }],
            products: [
              { id: 14, enabled: true },
              { id: 15, enabled: true },
            ],
            lease: [{ holder_id: leaders[0], fence: '1' }],
          });
        } finally {
          await pg.end();
        }

        expect(started.map((p) => p.child.exitCode)).toEqual(IDS.map(() => null));
        expect(await Promise.all(started.map((p) => p.stop('SIGTERM')))).toEqual(IDS.map(() => 0));
      } finally {
        await Promise.all(started.map((p) => p.stop('SIGKILL')));
        await db.drop();
      }
    },
    120_000,
  );
});
