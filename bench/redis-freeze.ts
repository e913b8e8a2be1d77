/**
 * Slots reads of the built service with REDIS_URL on a private redis-server, before, during and
 * after a freeze of that Redis (SIGSTOP: it keeps its connections and answers nothing), for the
 * pre-fix build and this build side by side in one run.
 *
 *   npm run build && npm run bench -- redis-freeze [seconds per phase, default 8]
 *
 * Seeds a fresh database (50 products × 60 days × 9 slots) and, for each build, starts a private
 * redis-server and one instance (dist/main.js), warms the cache for 3 s, then measures three
 * phases with the same load: normal, frozen (SIGSTOP at the start of the phase, so the breaker's
 * first failures count in it) and after (SIGCONT at its start). The pre-fix build is commit
 * BENCH_BEFORE_REV (default 488b485, the last one without the breaker), extracted and compiled
 * into a temporary directory with this checkout's node_modules; BENCH_BEFORE_DIST=<dir with
 * main.js> uses a build already made instead. Prints a Markdown table.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addDays, todayIn } from '../src/inventory/calendar';
import { load, loadTool, type LoadResult } from './_http-load';
import { createBenchDatabase, seedReadData } from './_seed-read-data';

const ROOT = path.resolve(__dirname, '..', '..');
const PRODUCTS = 50;
const DAYS = 60;
const CONNECTIONS = 32;
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

async function waitFor(what: string, probe: () => Promise<boolean>, ms = 90000): Promise<void> {
  const deadline = Date.now() + ms;
  // A probe's fetch failing means not yet; an Error it throws itself ends the wait.
  while (
    !(await probe().catch((err: unknown) => {
      if (err instanceof Error && err.message.includes('exited')) throw err;
      return false;
    }))
  ) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function track(child: ChildProcess): Proc {
  return { child, exited: new Promise<void>((r) => child.once('exit', () => r())) };
}

async function startRedis(): Promise<Proc & { url: string }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const proc = track(child);
  await waitFor(
    'redis-server accepting connections',
    () =>
      new Promise((resolve) => {
        const c = net.connect(port, '127.0.0.1');
        c.once('connect', () => (c.destroy(), resolve(true)));
        c.once('error', () => resolve(false));
      }),
  );
  return { ...proc, url: `redis://127.0.0.1:${port}` };
}

async function startService(
  dist: string,
  databaseUrl: string,
  redisUrl: string,
): Promise<Proc & { url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(dist, 'main.js')], {
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
      LOG_LEVEL: 'error',
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const proc = track(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the service answering /health/live', async () => {
    if (child.exitCode !== null) throw new Error(`${dist}/main.js exited:\n${stderr}`);
    return (await fetch(`${url}/health/live`)).status === 200;
  });
  return { ...proc, url };
}

/** The pre-fix build: BENCH_BEFORE_DIST, or BENCH_BEFORE_REV compiled in a temporary directory. */
function beforeBuild(): { dist: string; label: string; cleanup: () => void } {
  if (process.env.BENCH_BEFORE_DIST) {
    return { dist: process.env.BENCH_BEFORE_DIST, label: 'BENCH_BEFORE_DIST', cleanup: () => {} };
  }
  const rev = process.env.BENCH_BEFORE_REV ?? '488b485';
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-freeze-before-'));
  const archive = execFileSync(
    'git',
    // package.json marks the project root; prisma/ holds the migrations the service applies.
    ['archive', rev, 'src', 'prisma', 'package.json', 'tsconfig.json', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      maxBuffer: 1 << 28,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // The generated Prisma client is not in git; the schema did not change since.
  cpSync(path.join(ROOT, 'src', 'generated'), path.join(dir, 'src', 'generated'), {
    recursive: true,
  });
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: dir,
    stdio: 'inherit',
  });
  const dist = path.join(dir, 'dist');
  if (!existsSync(path.join(dist, 'main.js'))) throw new Error(`no main.js in ${dist}`);
  return { dist, label: rev, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function breakerOf(url: string): Promise<string> {
  const s = (await (await fetch(`${url}/api/v1/experience/sync/status`)).json()) as {
    readCache?: { shared: { breaker: string } | null };
  };
  return s.readCache?.shared?.breaker ?? '(none)';
}

async function readyOf(url: string): Promise<number> {
  return (await fetch(`${url}/health/ready`)).status;
}

interface PhaseRow {
  build: string;
  phase: string;
  r: LoadResult;
  ready: number;
  breaker: string;
}

async function measureBuild(
  build: string,
  dist: string,
  databaseUrl: string,
  seconds: number,
  dates: string[],
): Promise<PhaseRow[]> {
  const redis = await startRedis();
  const service = await startService(dist, databaseUrl, redis.url);
  const traffic = { kind: 'slots' as const, products: PRODUCTS, dates };
  const run = (s: number): Promise<LoadResult> =>
    load({ url: service.url, traffic, seconds: s, connections: CONNECTIONS, threads: 2 });
  const rows: PhaseRow[] = [];
  try {
    await waitFor('the service to be ready', async () => (await readyOf(service.url)) === 200);
    await run(3);
    for (const phase of ['normal', 'frozen', 'after'] as const) {
      if (phase === 'frozen') redis.child.kill('SIGSTOP');
      if (phase === 'after') redis.child.kill('SIGCONT');
      const r = await run(seconds);
      rows.push({
        build,
        phase,
        r,
        ready: await readyOf(service.url),
        breaker: await breakerOf(service.url),
      });
    }
  } finally {
    redis.child.kill('SIGCONT');
    service.child.kill('SIGTERM');
    await service.exited;
    redis.child.kill('SIGKILL');
    await redis.exited;
  }
  return rows;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 8);
  const today = todayIn('UTC', new Date());
  const dates = Array.from({ length: 7 }, (_, i) => addDays(today, i));
  const before = beforeBuild();
  const db = await createBenchDatabase();
  const rows: PhaseRow[] = [];
  try {
    await seedReadData(db.url, { products: PRODUCTS, days: DAYS, slotsPerDay: 9, from: today });
    rows.push(
      ...(await measureBuild(`before (${before.label})`, before.dist, db.url, seconds, dates)),
    );
    rows.push(
      ...(await measureBuild(
        'after (this build)',
        path.join(ROOT, 'dist'),
        db.url,
        seconds,
        dates,
      )),
    );
  } finally {
    await db.drop();
    before.cleanup();
  }
  console.log(
    `\n${seconds} s per phase, ${CONNECTIONS} connections (${loadTool}), one instance, GET /api/v1/experience/{1..${PRODUCTS}}/slots?date={next 7 days}; Redis frozen by SIGSTOP for the whole "frozen" phase\n`,
  );
  console.log(
    '| build | phase | req/s | p50 ms | p99 ms | non-2xx + errors | p50 vs normal | /health/ready after | breaker after |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const normal = rows.find((x) => x.build === row.build && x.phase === 'normal')!;
    console.log(
      `| ${row.build} | ${row.phase} | ${Math.round(row.r.reqPerSec)} | ${row.r.p50Ms.toFixed(2)} | ${row.r.p99Ms.toFixed(2)} | ${row.r.non2xx + row.r.errors} | ${(row.r.p50Ms / normal.r.p50Ms).toFixed(2)}× | ${row.ready} | ${row.breaker} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
