/**
 * Read throughput of 3 instances vs 1 on the same machine, side by side in one run, with the
 * read cache in-process (LRU, invalidated across instances by NOTIFY) and shared (Redis).
 *
 *   npm run build && npm run bench -- read-scale [seconds per measurement, default 8]
 *
 * Seeds a fresh database (50 products × 60 days × 9 slots), runs the built service
 * (dist/main.js) as 1 and then 3 processes on one PostgreSQL, and loads them with autocannon from
 * this process (50 connections in all, split evenly over the instances) on the slots endpoint of
 * random product-dates of the next 7 days. Uses the Redis at REDIS_URL (default
 * redis://127.0.0.1:6379) for the shared-cache rows. Prints a Markdown table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { addDays, todayIn } from '../src/inventory/calendar';
import { autocannon, type AutocannonResult } from './_autocannon';
import { createBenchDatabase, seedReadData } from './_seed-read-data';

const ROOT = path.resolve(__dirname, '..', '..');
const PRODUCTS = 50;
const DAYS = 60;
const CONNECTIONS = 50;
const NEVER = '0 0 1 1 *';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Instance {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

async function startInstance(
  id: string,
  databaseUrl: string,
  redisUrl: string | undefined,
): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PARTNER_API_URL: 'http://127.0.0.1:9',
      PARTNER_API_KEY: 'bench-key',
      SYNC_ON_BOOT: 'false',
      SYNC_PRODUCT_IDS: Array.from({ length: PRODUCTS }, (_, i) => i + 1).join(','),
      SYNC_CRON_DAILY: NEVER,
      SYNC_CRON_FOUR_HOURLY: NEVER,
      SYNC_CRON_QUARTER_HOURLY: NEVER,
      SYNC_CRON_EXTENDED: NEVER,
      CACHE_TTL_MS: '600000',
      CACHE_MAX_ENTRIES: String(PRODUCTS * DAYS * 2),
      REDIS_URL: redisUrl,
      INSTANCE_ID: id,
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90000;
  for (;;) {
    const ok = await fetch(`${url}/health`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${id} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, exited };
}

function load(url: string, connections: number, seconds: number, dates: string[]) {
  return new Promise<AutocannonResult>((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [
          {
            setupRequest: (req) => {
              const p = 1 + Math.floor(Math.random() * PRODUCTS);
              const d = dates[Math.floor(Math.random() * dates.length)];
              return { ...req, path: `/api/v1/experience/${p}/slots?date=${d}` };
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function measure(
  instances: Instance[],
  seconds: number,
  dates: string[],
): Promise<{ rps: number; p50: number; p99: number; non2xx: number }> {
  const per = Math.floor(CONNECTIONS / instances.length);
  // Warm every cache with a short run first (the first reads of each key go to PostgreSQL).
  await Promise.all(instances.map((i) => load(i.url, per, 2, dates)));
  const results = await Promise.all(instances.map((i) => load(i.url, per, seconds, dates)));
  return {
    rps: results.reduce((s, r) => s + r.requests.total, 0) / seconds,
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    non2xx: results.reduce((s, r) => s + r.non2xx + r.errors, 0),
  };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 8);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const today = todayIn('UTC', new Date());
  const dates = Array.from({ length: 7 }, (_, i) => addDays(today, i));
  const db = await createBenchDatabase();
  const rows: string[] = [];
  try {
    await seedReadData(db.url, { products: PRODUCTS, days: DAYS, slotsPerDay: 9, from: today });
    for (const [mode, redis] of [
      ['in-process LRU', undefined],
      ['shared Redis', redisUrl],
    ] as const) {
      const instances: Instance[] = [];
      try {
        instances.push(await startInstance('scale-1', db.url, redis));
        const one = await measure(instances, seconds, dates);
        instances.push(await startInstance('scale-2', db.url, redis));
        instances.push(await startInstance('scale-3', db.url, redis));
        const three = await measure(instances, seconds, dates);
        for (const [n, r] of [
          [1, one],
          [3, three],
        ] as const) {
          rows.push(
            `| ${mode} | ${n} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${n === 3 ? (three.rps / one.rps).toFixed(2) + '×' : '1.00×'} |`,
          );
        }
      } finally {
        for (const i of instances) i.child.kill('SIGTERM');
        await Promise.all(instances.map((i) => i.exited));
      }
    }
  } finally {
    await db.drop();
  }
  console.log(
    `\n${seconds} s per measurement, ${CONNECTIONS} connections in all, GET /api/v1/experience/{1..${PRODUCTS}}/slots?date={next 7 days}\n`,
  );
  console.log('| cache | instances | req/s | p50 ms (worst instance) | p99 ms | non-2xx | vs 1 |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
