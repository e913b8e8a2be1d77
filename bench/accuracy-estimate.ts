/**
 * What the live accuracy estimate costs at 5,000 products × 60 dates.
 *
 *   npm run bench -- accuracy-estimate [products, default 5000] [observations per day, default 172800] [rounds, default 10]
 *
 * Seeds a fresh database with every product-date synced (ages spread over 0–7 days) and a week of
 * change observations (172,800 a day: four keys' full budget), then times, side by side in
 * rounds: one estimate (AccuracyEstimateService: the observation buckets of the last 24 h, the
 * estimator, the fresh-sum aggregate over product_date_syncs; computed each time, as its background refresh does) against what
 * status already reads per request for the same products (DueListRepository.horizonFreshness, shared 10 s). Prints
 * p50 and max of each and their ratio as a Markdown table.
 */
import { Client } from 'pg';
import { Clock } from '../src/common/clock';
import { loadConfig } from '../src/config/app-config';
import { PrismaService } from '../src/core/prisma.service';
import { AccuracyEstimateService } from '../src/inventory/accuracy/accuracy-estimate.service';
import { ChangeObservationsRepository } from '../src/inventory/accuracy/change-observations.repository';
import { todayIn } from '../src/inventory/calendar';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { createBenchDatabase } from './_seed-read-data';

const DAYS = 60;

async function seed(url: string, today: string, products: number, perDay: number): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`INSERT INTO products (id) SELECT g FROM generate_series(1, $1) g`, [products]);
    await c.query(
      `INSERT INTO product_date_syncs (product_id, date, last_attempt_at, last_success_at, last_outcome, slot_count)
       SELECT p, $1::date + d, now() - ((p * 7 + d * 13) % 10080) * interval '1 minute',
              now() - ((p * 7 + d * 13) % 10080) * interval '1 minute', 'unchanged', 3
         FROM generate_series(1, $2) p, generate_series(0, $3 - 1) d`,
      [today, products, DAYS],
    );
    // A week of observations spread evenly, intervals from 5 min to 7 days, a third changed.
    await c.query(
      `INSERT INTO change_observations (product_id, date, observed_at, interval_seconds, changed)
       SELECT (1 + (g * 7919) % $2)::int, $1::date + (g % $3)::int, now() - (g * (604800.0 / ($4 * 7))) * interval '1 second',
              300 * power(2016, (g % 997) / 996.0), g % 3 = 0
         FROM generate_series(0::bigint, $4::bigint * 7 - 1) g`,
      [today, products, DAYS, perDay],
    );
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};

async function main(): Promise<void> {
  const products = Math.max(1, Number(process.argv[2] ?? 5000));
  const perDay = Math.max(1, Number(process.argv[3] ?? 172_800));
  const rounds = Math.max(1, Number(process.argv[4] ?? 10));
  const db = await createBenchDatabase();
  const productIds = Array.from({ length: products }, (_, i) => i + 1);
  const config = loadConfig(
    { DATABASE_URL: db.url, SYNC_PRODUCT_IDS: productIds.join(','), PARTNER_API_KEY: 'bench' },
    'production',
  );
  const today = todayIn(config.sync.timeZone);
  const t0 = performance.now();
  await seed(db.url, today, products, perDay);
  console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
  await prisma.onModuleInit();
  const policy = buildSyncPolicy(config.sync.cron, config.sync.timeZone, new Date());
  const estimator = new AccuracyEstimateService(
    new ChangeObservationsRepository(prisma),
    config,
    policy,
    new Clock(),
  );
  const dueList = new DueListRepository(prisma);
  const observations = new ChangeObservationsRepository(prisma);
  try {
    const estimate: number[] = [];
    const states: number[] = [];
    const buckets: number[] = [];
    const sums: number[] = [];
    let last = await estimator.refresh(); // warm-up
    await dueList.horizonFreshness({ productIds, today, policy, now: new Date(), worst: 20 });
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      last = await estimator.refresh();
      estimate.push(performance.now() - t);
      t = performance.now();
      await dueList.horizonFreshness({ productIds, today, policy, now: new Date(), worst: 20 });
      states.push(performance.now() - t);
      t = performance.now();
      const since = new Date(Date.now() - 86_400_000);
      await observations.bucketsSince(productIds, config.sync.timeZone, policy.horizons, since);
      buckets.push(performance.now() - t);
      t = performance.now();
      const rates = policy.horizons.map(() => 1e-4);
      await observations.freshSums(productIds, today, policy.horizons, rates, new Date());
      sums.push(performance.now() - t);
    }
    const e = stats(estimate);
    const s = stats(states);
    console.log(
      `\n${products} products × ${DAYS} dates, ${perDay * 7} observations (${perDay} in the last 24 h), ${rounds} rounds\n`,
    );
    console.log('| step | p50 ms | max ms |');
    console.log('| --- | ---: | ---: |');
    console.log(`| accuracy estimate (uncached) | ${e.p50.toFixed(0)} | ${e.max.toFixed(0)} |`);
    console.log(`| status's horizonFreshness read | ${s.p50.toFixed(0)} | ${s.max.toFixed(0)} |`);
    const b = stats(buckets);
    const f = stats(sums);
    console.log(
      `| of the estimate: observation buckets | ${b.p50.toFixed(0)} | ${b.max.toFixed(0)} |`,
    );
    console.log(`| of the estimate: fresh sums | ${f.p50.toFixed(0)} | ${f.max.toFixed(0)} |`);
    console.log(`\nratio estimate / horizonFreshness (p50): ${(e.p50 / s.p50).toFixed(2)}`);
    console.log(
      `estimate: ${JSON.stringify({ expectedFreshReads: last?.expectedFreshReads, horizons: last?.horizons.map((h) => [h.name, h.observations, h.changeRatePerHour?.toFixed(3)]) })}`,
    );
  } finally {
    await prisma.onModuleDestroy();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
