/**
 * The freshness matrix behind the operator page at the assignment's scale: 450 products × 60 dates.
 *
 *   npm run bench -- freshness-matrix [requests, default 20]
 *
 * Seeds a fresh database with ~24,500 product_date_syncs rows (a mix of fresh, due, stale, failed
 * and never-synced dates) and builds the answer of GET /api/v1/experience/sync/freshness the way
 * the endpoint does (FreshnessService.matrix: the rows and counts classified in SQL, JSON; not
 * the endpoint's shared reading), repeatedly. Prints the
 * time per answer (p50, max) and the size of the compact answer next to the same matrix written
 * as one JSON object per cell with ISO times (the obvious alternative), as a Markdown table.
 */
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, todayIn } from '../src/inventory/calendar';
import type { FreshnessMatrix } from '../src/inventory/freshness/freshness-matrix';
import { FreshnessService } from '../src/inventory/freshness/freshness.service';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { buildSyncPolicy } from '../src/inventory/policy/sync-policy';
import { createBenchDatabase } from './_seed-read-data';

const PRODUCTS = 450;
const DAYS = 60;

async function seed(url: string, today: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`INSERT INTO products (id) SELECT g FROM generate_series(1, $1) g`, [PRODUCTS]);
    // Per cell: every 11th never synced (no row), every 13th failed after its success, and ages
    // spread so today's cells are a mix of fresh, due and stale.
    await c.query(
      `INSERT INTO product_date_syncs
         (product_id, date, last_attempt_at, last_success_at, last_outcome, last_error, slot_count)
       SELECT p, $1::date + d,
              CASE WHEN (p + d) % 13 = 0 THEN now() - interval '1 minute'
                   ELSE now() - ((p * 7 + d * 3) % 40) * interval '1 minute' END,
              now() - ((p * 7 + d * 3) % 40) * interval '1 minute',
              CASE WHEN (p + d) % 13 = 0 THEN 'server_error' ELSE 'unchanged' END,
              CASE WHEN (p + d) % 13 = 0 THEN 'Partner answered 503' ELSE NULL END,
              (p + d) % 10
         FROM generate_series(1, $2) p, generate_series(0, $3 - 1) d
        WHERE (p * 31 + d) % 11 <> 0`,
      [today, PRODUCTS, DAYS],
    );
  } finally {
    await c.end();
  }
}

/** The same information as one object per cell with absolute times: what the compact form avoids. */
function verbose(m: FreshnessMatrix): string {
  const generated = Date.parse(m.generatedAt);
  const iso = (age: number | null) =>
    age === null ? null : new Date(generated - age * 1000).toISOString();
  return JSON.stringify({
    generatedAt: m.generatedAt,
    cells: m.products.flatMap((p) =>
      m.dates.map((date, i) => ({
        productId: p.productId,
        date,
        state: m.codes[p.states[i]],
        lastSuccessAt: iso(p.ageSeconds[i]),
        slotCount: p.slots[i],
        lastError: p.errors.find((e) => e.day === i)?.message ?? null,
      })),
    ),
  });
}

async function main(): Promise<void> {
  const requests = Math.max(1, Number(process.argv[2] ?? 20));
  const db = await createBenchDatabase();
  const productIds = Array.from({ length: PRODUCTS }, (_, i) => i + 1).join(',');
  const config = loadConfig(
    { DATABASE_URL: db.url, SYNC_PRODUCT_IDS: productIds, PARTNER_API_KEY: 'bench' },
    'production',
  );
  const today = todayIn(config.sync.timeZone);
  await seed(db.url, today);
  const prisma = new PrismaService({ url: db.url, poolSize: 2, kind: 'postgresql' });
  await prisma.onModuleInit();
  const policy = buildSyncPolicy(config.sync.cron, config.sync.timeZone, new Date());
  const freshness = new FreshnessService(new DueListRepository(prisma), config, policy);
  try {
    const timings: number[] = [];
    let body = '';
    for (let i = 0; i < requests + 2; i++) {
      const t0 = performance.now();
      body = JSON.stringify(await freshness.matrix());
      if (i >= 2) timings.push(performance.now() - t0); // two warm-up requests
    }
    timings.sort((a, b) => a - b);
    const matrix = JSON.parse(body) as FreshnessMatrix;
    const cells = matrix.products.length * matrix.dates.length;
    const verboseBytes = Buffer.byteLength(verbose(matrix));
    const compactBytes = Buffer.byteLength(body);
    console.log(`\nfreshness matrix: ${matrix.products.length} products × ${matrix.dates.length}`);
    console.log(`dates (${today} .. ${addDays(today, DAYS - 1)}), ${requests} requests\n`);
    console.log('| answer | cells | bytes | bytes/cell | p50 ms | max ms |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    const p50 = timings[Math.floor(timings.length / 2)];
    const max = timings[timings.length - 1];
    console.log(
      `| compact (served) | ${cells} | ${compactBytes} | ${(compactBytes / cells).toFixed(1)} | ${p50.toFixed(0)} | ${max.toFixed(0)} |`,
    );
    console.log(
      `| one object per cell (not served) | ${cells} | ${verboseBytes} | ${(verboseBytes / cells).toFixed(1)} | — | — |`,
    );
    console.log(
      `\nsize ratio per-cell / compact: ${(verboseBytes / compactBytes).toFixed(1)}×; counts ${JSON.stringify(matrix.counts)}`,
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
