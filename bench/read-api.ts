/**
 * Read API throughput and latency, side by side in one run: a bare hello-world endpoint, then the
 * slots and dates endpoints cold (cache off: every request queries PostgreSQL) and warm (LRU).
 *
 *   npm run bench -- read-api [seconds per measurement, default 10]
 *
 * Seeds a fresh database with 450 products × 60 days × 9 slots × 3 pax (bulk INSERTs), runs the
 * service as a child process (built exactly like production by createApp) and loads it with
 * autocannon at 50 connections from this process. Prints a Markdown report including the
 * EXPLAIN ANALYZE plans of the two queries.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { Controller, Get, type DynamicModule } from '@nestjs/common';
import { Client } from 'pg';
import { createApp } from '../src/app.factory';
import { AppModule } from '../src/app.module';
import { loadConfig } from '../src/config/app-config';
import { addDays, addMonths, todayIn } from '../src/inventory/calendar';
import { datesQuery, slotsQuery } from '../src/inventory/read/slot-read.service';
import { AppLogger } from '../src/ops/app-logger';
import { autocannon } from './_autocannon';
import { createBenchDatabase, seedReadData } from './_seed-read-data';

const PRODUCTS = 450;
const DAYS = 60;
const SLOTS_PER_DAY = 9;
/** Slots requests ask for one of the next days, where reads concentrate (and priming stays short). */
const TRAFFIC_DAYS = 7;
const CONNECTIONS = 50;
const NEVER = '0 0 1 1 *';

/** The baseline: what the same Nest app answers with no work at all. */
@Controller('bench')
class HelloController {
  @Get('hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

function serviceEnv(databaseUrl: string, cache: boolean): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    // An unreachable partner and crons that never fire: nothing but the seed writes inventory.
    PARTNER_API_URL: 'http://127.0.0.1:9',
    PARTNER_API_KEY: 'bench-key',
    SYNC_ON_BOOT: 'false',
    SYNC_PRODUCT_IDS: Array.from({ length: PRODUCTS }, (_, i) => i + 1).join(','),
    SYNC_TIMEZONE: 'UTC',
    SYNC_CRON_DAILY: NEVER,
    SYNC_CRON_FOUR_HOURLY: NEVER,
    SYNC_CRON_QUARTER_HOURLY: NEVER,
    SYNC_CRON_EXTENDED: NEVER,
    LOG_LEVEL: 'warn',
    // Warm: room for every product-date, and entries outliving the run.
    CACHE_TTL_MS: cache ? '600000' : '0',
    CACHE_MAX_ENTRIES: cache ? String(PRODUCTS * DAYS * 2) : '0',
    PORT: '0',
    HOST: '127.0.0.1',
  };
}

/** Child process: the service as createApp builds it, plus the bench-only hello-world route. */
async function serve(): Promise<void> {
  const config = loadConfig(process.env, 'production');
  const forRoot = AppModule.forRoot.bind(AppModule);
  AppModule.forRoot = (c): DynamicModule => {
    const m = forRoot(c);
    return { ...m, controllers: [...(m.controllers ?? []), HelloController] };
  };
  const logger = new AppLogger({ level: config.log.level, format: 'json', secrets: [] });
  const app = await createApp(config, logger);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ benchServer: url })}\n`);
  process.on('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
}

async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [__filename, '--serve'], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\{"benchServer":"([^"]+)"\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return { url, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

interface Measurement {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

function load(
  url: string,
  name: string,
  seconds: number,
  path: () => string,
  connections = CONNECTIONS,
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [{ setupRequest: (req) => ({ ...req, path: path() }) }],
      },
      (err, r) => {
        if (err) return reject(err);
        resolve({
          name,
          reqPerSec: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          requests: r.requests.total,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
        });
      },
    );
  });
}

const pick = (n: number): number => Math.floor(Math.random() * n);

/** Requests every key once, CONNECTIONS at a time, so the warm runs meet a full cache. */
async function prime(url: string, paths: string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const res = await fetch(url + paths[next++]);
      if (!res.ok) throw new Error(`priming ${res.url}: ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

async function explain(url: string, sql: { text: string; values: unknown[] }): Promise<string> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql.text, sql.values);
    const r = await c.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql.text}`,
      sql.values,
    );
    return r.rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const started = Date.now();
  const today = todayIn('UTC');
  const db = await createBenchDatabase();
  const servers: ChildProcess[] = [];
  try {
    const seedStart = Date.now();
    const seeded = await seedReadData(db.url, {
      products: PRODUCTS,
      days: DAYS,
      slotsPerDay: SLOTS_PER_DAY,
      from: today,
    });
    const seedMs = Date.now() - seedStart;
    console.error(`seeded ${seeded.slots} slots, ${seeded.pax} pax in ${seedMs} ms`);

    const slotsPath = (): string =>
      `/api/v1/experience/${1 + pick(PRODUCTS)}/slots?date=${addDays(today, pick(TRAFFIC_DAYS))}`;
    const datesPath = (): string => `/api/v1/experience/${1 + pick(PRODUCTS)}/dates`;
    const results: Measurement[] = [];

    const cold = await startServer(serviceEnv(db.url, false));
    servers.push(cold.child);
    await load(cold.url, 'warm-up', 3, slotsPath);
    results.push(await load(cold.url, 'slots, cold (cache off)', seconds, slotsPath));
    results.push(await load(cold.url, 'dates, cold (cache off)', seconds, datesPath));
    // One connection: the service time of a cold read, without queueing behind 49 others.
    results.push(await load(cold.url, 'slots, cold, 1 connection', seconds, slotsPath, 1));
    await stopServer(cold.child);

    const warm = await startServer(serviceEnv(db.url, true));
    servers.push(warm.child);
    await load(warm.url, 'warm-up', 3, () => '/bench/hello');
    results.unshift(await load(warm.url, 'hello world (baseline)', seconds, () => '/bench/hello'));
    const keys: string[] = [];
    for (let p = 1; p <= PRODUCTS; p++) {
      keys.push(`/api/v1/experience/${p}/dates`);
      for (let d = 0; d < TRAFFIC_DAYS; d++)
        keys.push(`/api/v1/experience/${p}/slots?date=${addDays(today, d)}`);
    }
    const primeStart = Date.now();
    await prime(warm.url, keys);
    console.error(`primed ${keys.length} keys in ${Date.now() - primeStart} ms`);
    results.push(await load(warm.url, 'slots, warm (LRU)', seconds, slotsPath));
    results.push(await load(warm.url, 'dates, warm (LRU)', seconds, datesPath));
    await stopServer(warm.child);

    const hello = results[0].reqPerSec;
    const pct = (m: Measurement): string => `${Math.round((100 * m.reqPerSec) / hello)}%`;
    const sample = 1 + pick(PRODUCTS);
    const out = [
      `Read API, ${new Date().toISOString()}: ${PRODUCTS} products × ${DAYS} days × ${SLOTS_PER_DAY} slots ` +
        `(${seeded.slots} slots, ${seeded.pax} pax rows, seeded in ${(seedMs / 1000).toFixed(1)} s), ` +
        `autocannon ${CONNECTIONS} connections, ${seconds} s per line; each request a random product ` +
        `(slots: one of the next ${TRAFFIC_DAYS} days; warm runs after every such key was requested once).`,
      '',
      '| endpoint | req/s | vs hello | p50 ms | p99 ms | requests | non-2xx | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...results.map(
        (m) =>
          `| ${m.name} | ${Math.round(m.reqPerSec)} | ${pct(m)} | ${m.p50} | ${m.p99} | ${m.requests} | ${m.non2xx} | ${m.errors} |`,
      ),
      '',
      `Slots query plan (product ${sample}, ${addDays(today, 3)}):`,
      '',
      '```',
      await explain(db.url, slotsQuery(sample, addDays(today, 3))),
      '```',
      '',
      `Dates query plan (product ${sample}, ${today} .. ${addMonths(today, 2)}):`,
      '',
      '```',
      await explain(db.url, datesQuery(sample, today, addMonths(today, 2))),
      '```',
      '',
      `Total bench time: ${Math.round((Date.now() - started) / 1000)} s`,
    ];
    console.log(out.join('\n'));
  } finally {
    for (const child of servers) await stopServer(child);
    await db.drop();
  }
}

if (process.argv[2] === '--serve') {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
