/**
 * A hung product: the share of the partner budget the healthy products get while the partner
 * answers one product with its headers and then one byte every 2 s, forever.
 *
 *   npm run build && npm run bench -- hung-product [baselineRoot] [scale, default 10] [minutes, default 4]
 *
 * 10 products (14..23), product 14 hung (the simulator's trickleProducts), one key at 30 calls
 * per window, the boot catch-up marking all 600 product-dates due. Time is compressed `scale`
 * times: the window is 60 s ÷ scale, PARTNER_TIMEOUT_MS 15 s ÷ scale, the trickle 2 s ÷ scale.
 * The product backoff's waits (30 s and up) are not compressed: they come from the service.
 *
 * Each row runs the built service as its own process (like production) against a fresh
 * PostgreSQL database and its own in-process simulator, and counts at the simulator what it
 * received, per product, in each 2-minute-equivalent slice from the first call:
 * - after: this tree's dist/ (`npm run build` first);
 * - after, PARTNER_MAX_CONCURRENCY=2: the same with the in-flight bound at the old default;
 * - before: `baselineRoot`/dist, a checkout of the pre-fix commit built with `npm ci && npm run
 *   build` (skipped without it).
 * The healthy share is the healthy products' calls ÷ the budget of the slice (30 per window).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';

const ROOT = path.resolve(__dirname, '..', '..');
const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const KEY = 'bench-hung-product-key';
const LIMIT = 30;
const PRODUCTS = Array.from({ length: 10 }, (_, i) => 14 + i);
const HUNG = 14;

interface Row {
  name: string;
  slices: Array<{ healthy: number; hung: number; budget: number }>;
}

function startService(
  root: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${out}`)), 90_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      if (out.length > 100_000) out = out.slice(-10_000);
      const m = /"msg":"listening".*"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1].replace('[::1]', '127.0.0.1') });
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => reject(new Error(`the service exited (${code}):\n${out}`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function perProduct(sim: PartnerSimulator): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, n] of Object.entries(sim.stats().perProductDate)) {
    const id = Number(k.slice(0, k.indexOf(':')));
    out.set(id, (out.get(id) ?? 0) + n);
  }
  return out;
}

async function run(
  name: string,
  root: string,
  extraEnv: Record<string, string>,
  scale: number,
  minutes: number,
): Promise<Row> {
  const windowMs = Math.round(60_000 / scale);
  const sim = new PartnerSimulator({ rateLimit: LIMIT, windowMs, apiKey: KEY });
  sim.setFaults({ trickleProducts: [HUNG], trickleIntervalMs: Math.round(2000 / scale) });
  const simUrl = await sim.start(0);
  const dbName = `inv_benchhung_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  let child: ChildProcess | undefined;
  try {
    const service = await startService(root, {
      DATABASE_URL: u.toString(),
      PARTNER_API_URL: simUrl,
      PARTNER_API_KEY: KEY,
      PARTNER_RATE_LIMIT: String(LIMIT),
      PARTNER_RATE_WINDOW_MS: String(windowMs),
      PARTNER_TIMEOUT_MS: String(Math.round(15_000 / scale)),
      SYNC_PRODUCT_IDS: PRODUCTS.join(','),
      SYNC_ON_BOOT: 'true',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      ...extraEnv,
    });
    child = service.child;
    // Slices of 2 real-scale minutes, from the first call the partner counted.
    while (sim.stats().firstCountedAt === null) await sleep(20);
    const first = sim.stats().firstCountedAt!;
    const sliceMs = 2 * windowMs;
    const slices: Row['slices'] = [];
    let before = new Map<number, number>();
    for (let s = 1; s <= minutes / 2; s++) {
      await sleep(first + s * sliceMs - Date.now());
      const now = perProduct(sim);
      let healthy = 0;
      for (const id of PRODUCTS) {
        if (id !== HUNG) healthy += (now.get(id) ?? 0) - (before.get(id) ?? 0);
      }
      const hung = (now.get(HUNG) ?? 0) - (before.get(HUNG) ?? 0);
      slices.push({ healthy, hung, budget: 2 * LIMIT });
      before = now;
    }
    const status = (await (await fetch(`${service.url}/api/v1/experience/sync/status`)).json()) as {
      due: { productsBackingOff?: unknown };
    };
    console.log(
      `${name}: productsBackingOff at the end`,
      JSON.stringify(status.due.productsBackingOff ?? null),
    );
    return { name, slices };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    await sim.stop();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const baselineRoot = process.argv[2] && process.argv[2] !== '-' ? process.argv[2] : null;
  const scale = Number(process.argv[3] ?? 10);
  const minutes = Number(process.argv[4] ?? 4);
  const rows: Row[] = [];
  if (baselineRoot) {
    rows.push(await run('before (pre-fix dist)', path.resolve(baselineRoot), {}, scale, minutes));
  }
  rows.push(
    await run(
      'after, PARTNER_MAX_CONCURRENCY=2',
      ROOT,
      { PARTNER_MAX_CONCURRENCY: '2' },
      scale,
      minutes,
    ),
  );
  rows.push(await run('after', ROOT, {}, scale, minutes));

  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)} %`;
  const head = Array.from({ length: minutes / 2 }, (_, i) => `min ${2 * i}–${2 * i + 2}`);
  console.log(
    `\n10 products, product ${HUNG} hung; ${LIMIT} calls per ${60 / scale} s window (time ÷ ${scale}); ` +
      `healthy products' calls (÷ the slice's budget of ${2 * LIMIT}) and the hung product's calls, per 2-minute-equivalent slice\n`,
  );
  console.log(`| service | ${head.join(' | ')} | hung product's calls |`);
  console.log(`| --- | ${head.map(() => '---').join(' | ')} | --- |`);
  for (const r of rows) {
    const cells = r.slices.map(
      (s) => `${s.healthy} / ${s.budget} = **${pct(s.healthy, s.budget)}**`,
    );
    console.log(
      `| ${r.name} | ${cells.join(' | ')} | ${r.slices.map((s) => s.hung).join(' + ')} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
