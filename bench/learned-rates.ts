/**
 * Cost of what the value rule learns, at scale: N products × 60 dates (default 5,000: 300,000
 * product-dates, every one with change sums, read counts and pools), on PostgreSQL (a fresh
 * database on TEST_DATABASE_ADMIN_URL, default 127.0.0.1:5432) and on the embedded PGlite.
 *
 *   npm run bench -- learned-rates [products, default 5000] [repeats, default 3]
 *
 * Per database, the median of `repeats` runs (ms) of:
 *   pools        the leader's refresh of change_rate_pools (every batch of products)
 *   flush 3k     one instance's flush of 3,150 product-dates' reads (the read-api bench's traffic)
 *   flush all    a flush of every product-date's reads (the worst a flush can hold)
 *   status       the per-horizon aggregate behind status `learned`
 *   rank         the due list's learned-rate columns for every product-date, ordered by
 *                read rate × (1 − e^(−rate × age)) (what a value rule's ORDER BY would ask)
 * Prints a Markdown table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../src/core/database/embedded-postgres';
import { migrate, readMigrations } from '../src/core/database/migrator';
import { PrismaService } from '../src/core/prisma.service';
import { Prisma } from '../src/generated/prisma/client';
import { addDays, todayIn } from '../src/inventory/calendar';
import { ChangeRatePoolsRepository } from '../src/inventory/learning/change-rate-pools.repository';
import { LearnedRatesRepository } from '../src/inventory/learning/learned-rates.repository';
import type { ReadCount } from '../src/inventory/learning/read-demand-counter';
import {
  READ_DEMAND_BATCH,
  ReadDemandRepository,
} from '../src/inventory/learning/read-demand.repository';
import { horizonNamesSql, learnedRatesJoinSql } from '../src/inventory/policy/learned-rates-sql';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { createBenchDatabase } from './_seed-read-data';
import { median } from './_stats';

const products = Number(process.argv[2] ?? 5000);
const repeats = Number(process.argv[3] ?? 3);
const HALF_LIFE_S = 21_600;
const policy = buildSyncPolicy(
  {
    daily: '0 0 * * *',
    fourHourly: '0 */4 * * *',
    quarterHourly: '*/15 * * * *',
    extended: '0 1 * * 0',
  },
  'UTC',
  new Date(),
);
const today = todayIn('UTC');
const ids = Array.from({ length: products }, (_, i) => 1000 + i);
const days = Array.from({ length: policy.lastDay + 1 }, (_, d) => d);

async function seed(prisma: PrismaService): Promise<void> {
  await prisma.$executeRaw`INSERT INTO products (id) SELECT unnest(${ids}::int[])`;
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    await prisma.$executeRaw`
      INSERT INTO product_date_syncs (product_id, date, last_success_at, obs_changed,
                                      obs_changed_seconds, obs_unchanged, obs_unchanged_seconds)
      SELECT p, ${today}::date + d, now() - (random() * 86400) * interval '1 second',
             random() * 5, random() * 20000, random() * 10, random() * 80000
        FROM unnest(${batch}::int[]) AS p CROSS JOIN unnest(${days}::int[]) AS d`;
    await prisma.$executeRaw`
      INSERT INTO read_demand (product_id, date, reads, updated_at)
      SELECT p, ${today}::date + d, random() * 50, now() - (random() * 600) * interval '1 second'
        FROM unnest(${batch}::int[]) AS p CROSS JOIN unnest(${days}::int[]) AS d`;
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function flush(repository: ReadDemandRepository, counts: ReadCount[]): Promise<void> {
  for (let i = 0; i < counts.length; i += READ_DEMAND_BATCH) {
    await repository.add(counts.slice(i, i + READ_DEMAND_BATCH), HALF_LIFE_S);
  }
}

async function run(label: string, url: string, poolSize: number): Promise<string> {
  const prisma = new PrismaService({ url, poolSize, kind: 'postgresql' });
  await prisma.$connect();
  try {
    const t0 = performance.now();
    await seed(prisma);
    console.error(
      `${label}: seeded ${products * days.length} product-dates in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const pools = new ChangeRatePoolsRepository(prisma);
    const demand = new ReadDemandRepository(prisma);
    const learned = new LearnedRatesRepository(prisma);
    const all: ReadCount[] = ids.flatMap((productId) =>
      days.map((d) => ({ productId, date: addDays(today, d), reads: 1 })),
    );
    // The read-api bench's traffic: 450 products × the next 7 days.
    const traffic = ids
      .slice(0, 450)
      .flatMap((productId) =>
        days.slice(0, 7).map((d) => ({ productId, date: addDays(today, d), reads: 3 })),
      );
    const rank = Prisma.sql`
      WITH h AS (${horizonNamesSql(policy)})
      SELECT s.product_id, s.date
        FROM product_date_syncs s
        JOIN h ON (s.date - ${today}::date) BETWEEN h.from_day AND h.to_day
        ${learnedRatesJoinSql({ now: Prisma.sql`now()`, readHalfLifeSeconds: HALF_LIFE_S })}
       ORDER BY lr.read_rate * (1 - exp(GREATEST(-700, -lr.change_rate
                  * extract(epoch FROM now() - s.last_success_at)))) DESC
       LIMIT 50`;
    const figures: Record<string, number[]> = {
      pools: [],
      flush3k: [],
      flushAll: [],
      status: [],
      rank: [],
    };
    // A first refresh warms the plans (and fills the pools the others read).
    await pools.refresh({ productIds: ids, today, policy });
    for (let i = 0; i < repeats; i++) {
      figures.pools.push(await timed(() => pools.refresh({ productIds: ids, today, policy })));
      figures.flush3k.push(await timed(() => flush(demand, traffic)));
      figures.flushAll.push(await timed(() => flush(demand, all)));
      figures.status.push(
        await timed(() =>
          learned.horizonSums({
            productIds: ids,
            today,
            policy,
            now: new Date(),
            readHalfLifeSeconds: HALF_LIFE_S,
          }),
        ),
      );
      figures.rank.push(await timed(() => prisma.$queryRaw(rank)));
    }
    const m = (k: string) => median(figures[k]).toFixed(0);
    return `| ${label} | ${products.toLocaleString('en')} × ${days.length} | ${m('pools')} | ${m('flush3k')} | ${m('flushAll')} | ${m('status')} | ${m('rank')} |`;
  } finally {
    await prisma.onModuleDestroy();
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const db = await createBenchDatabase();
  try {
    rows.push(await run('PostgreSQL 15', db.url, 4));
    console.error(rows.at(-1));
  } finally {
    await db.drop();
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'learned-rates-'));
  const embedded = await EmbeddedPostgres.start(dir);
  try {
    await migrate(
      embedded.connectionString,
      readMigrations(path.join(process.cwd(), 'prisma', 'migrations')),
    );
    rows.push(await run('PGlite (embedded)', embedded.connectionString, 1));
  } finally {
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    [
      `Learned rates at scale, median of ${repeats} (ms; Node ${process.version}, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '| database | product-dates | pools refresh | flush 3,150 | flush all | status aggregate | rank all (top 50) |',
      '|---|---|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
