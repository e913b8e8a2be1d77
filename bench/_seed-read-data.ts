import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { migrate, readMigrations } from '../src/core/database/migrator';
import { Prisma } from '../src/generated/prisma/client';
import { slotsJson } from '../src/inventory/read/slots-json';

/** The PostgreSQL server benchmarks create their throw-away databases on. */
export const BENCH_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const c = new Client({ connectionString: BENCH_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh, migrated database (named inv_bench_…, so the test teardown sweeps leftovers too). */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `inv_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  const u = new URL(BENCH_ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  await migrate(url, readMigrations(path.join(process.cwd(), 'prisma', 'migrations')));
  return { name, url, drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export interface ReadDataShape {
  products: number;
  days: number;
  slotsPerDay: number;
  /** First date (YYYY-MM-DD). */
  from: string;
  /**
   * Dates (YYYY-MM-DD) left without a stored answer, as product-dates stored before slot_answers
   * existed: their reads build the JSON live. Every other product-date gets the answer its sync
   * would have stored.
   */
  withoutAnswers?: string[];
}

/**
 * Bulk-inserts inventory shaped like product 14 (9 slots a day from 04:00 every 30 minutes, three
 * pax types with the adult primary) for product ids 1..products, in a few set-based INSERTs.
 * Prices vary per slot and about one slot in seven is sold out, so the dates rule has work to do.
 * Every product-date is synced (product_date_syncs) and, but for `withoutAnswers`, has its answer.
 */
export async function seedReadData(
  url: string,
  shape: ReadDataShape,
): Promise<{ slots: number; pax: number }> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { products, days, slotsPerDay, from } = shape;
    await c.query('INSERT INTO products (id) SELECT g FROM generate_series(1, $1::int) g', [
      products,
    ]);
    await c.query(
      `INSERT INTO slots (product_id, date, start_time, end_time, provider_slot_id, variant_id,
                          remaining, currency_code)
       SELECT p, d::date, t, t, p || '_' || to_char(d, 'YYYY-MM-DD') || 'T' || t, 32,
              CASE WHEN (p + i + extract(doy FROM d)::int) % 7 = 0 THEN 0 ELSE 2000 END, 'SGD'
       FROM generate_series(1, $1::int) p,
            generate_series($2::date, $2::date + ($3::int - 1), interval '1 day') d,
            generate_series(0, $4::int - 1) i,
            LATERAL (SELECT to_char(time '04:00' + i * interval '30 minutes', 'HH24:MI') AS t) tt`,
      [products, from, days, slotsPerDay],
    );
    await c.query(
      `INSERT INTO pax_availability (slot_id, type, position, name, description, min, max,
                                     remaining, is_primary, final_price, original_price, discount,
                                     currency_code)
       SELECT s.id, x.type, x.position, x.name, x.description, x.min, 20, 1000, x.position = 0,
              x.base + (s.id % 97) + 0.14, x.base + (s.id % 97) + 100.14, 100, 'SGD'
       FROM slots s
       CROSS JOIN (VALUES ('ADULT_12~99', 0, 'Adult', '12-99 years', 1, 200),
                          ('CHILD_3~11', 1, 'Child', '3-11 years', 0, 40),
                          ('INFANT_0~4', 2, 'Infant', '0-4 years', 0, 0))
         AS x(type, position, name, description, min, base)`,
    );
    await c.query(
      `INSERT INTO product_date_syncs (product_id, date, last_attempt_at, last_success_at,
                                       last_outcome, slot_count)
       SELECT p, d::date, now(), now(), 'ok', $4::int
       FROM generate_series(1, $1::int) p,
            generate_series($2::date, $2::date + ($3::int - 1), interval '1 day') d`,
      [products, from, days, slotsPerDay],
    );
    // The answer the sync stores with each product-date's rows, from the same SQL expression.
    const answers = Prisma.sql`
      INSERT INTO slot_answers (product_id, date, body)
      SELECT pds.product_id, pds.date, ${slotsJson(Prisma.raw('pds.product_id'), Prisma.raw('pds.date'))}
        FROM product_date_syncs pds
       WHERE NOT (pds.date = ANY(${shape.withoutAnswers ?? []}::date[]))`;
    await c.query(answers.text, answers.values);
    await c.query('ANALYZE');
    const slots = await c.query<{ n: string }>('SELECT count(*) AS n FROM slots');
    const pax = await c.query<{ n: string }>('SELECT count(*) AS n FROM pax_availability');
    return { slots: Number(slots.rows[0].n), pax: Number(pax.rows[0].n) };
  } finally {
    await c.end();
  }
}
