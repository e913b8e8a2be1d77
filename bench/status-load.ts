/**
 * What the operator's page costs the read API: slots reads with and without status and freshness
 * being polled, at 450 and 5,000 products × 60 dates, for this build and an older one.
 *
 *   STATUS_BENCH_BEFORE=/path/to/older/checkout npm run bench -- status-load [seconds, default 10] [pairs, default 3] [rounds, default 1]
 *   STATUS_BENCH_PAGES=1 …   # one page at its own cadence instead of five
 *   STATUS_BENCH_SCALES=5000 …   # only these scales (comma-separated; default 450,5000)
 *   STATUS_BENCH_PIN=0 …   # no CPU pinning (see below)
 *   STATUS_BENCH_CPU_PROF=/tmp/prof …   # each service also writes a .cpuprofile (node --cpu-prof)
 *
 * STATUS_BENCH_BEFORE names a checkout whose `dist/main.js` is built (`npm run build` there);
 * without it only this build is measured. Per scale, a fresh database is seeded with set-based
 * INSERTs: products 1..N with 9 slots a day for the 7 days the reads ask for (with their stored
 * answers), and product_date_syncs for every product × today..+59 (ages spread over 10 hours,
 * one date in 13 failed since its success, one in 11 never synced). Each round starts each build
 * in turn as its own process (`node dist/main.js`, an unreachable partner, crons that never fire,
 * LOG_LEVEL=warn) on that database and, after a 5 s warm-up, loads it with random slots reads (50
 * connections) for the given seconds, alternately without and with the page (A B A B …, `pairs`
 * pairs). Each pair gives a ratio (p99 with / p99 without); a build's figure is the median of its
 * ratios with their spread (min–max), so one window that a burst of the shared machine lands in
 * neither makes nor breaks it. "With the page" is a poller in this process asking for status
 * every 1 s and freshness every 2 s: the page's 5 s and 10 s five times over (five pages open, to
 * be conservative; STATUS_BENCH_PAGES sets how many).
 *
 * CPU pinning (with taskset and at least 2 CPUs, unless STATUS_BENCH_PIN=0): the load generator
 * (wrk, and this process with its pollers) runs on the last CPU; the service and the PostgreSQL
 * backends of its database on the others, so the two sides do not take each other's CPU and the
 * page's cost shows as what it takes from the service and its database. PostgreSQL's parallel
 * workers are started by the server, not the backend, so they are not pinned.
 *
 * Afterwards, with no load, status and freshness are asked twice each, 10.5 s apart (past any
 * shared reading), for their time and body size (the median of the two is shown). The
 * event-loop lag is the service's own gauge (`/metrics`, its maximum over the windows), and so
 * is its CPU time per 1,000 slots reads without and with the page (the page's own work
 * included); the database's is the CPU time of its backends (/proc), per 1,000 reads alike.
 * CPU time is what the page costs, and the shared machine's other work hardly moves it, where it
 * moves p99 a lot. The 1-minute load average is shown at each build's start and end. Prints a
 * Markdown table per scale and the target check (slots p99 with the page open at most 1.5×
 * without: this build's median ratio); exits 1 when the target is not met.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { addDays, todayIn } from '../src/inventory/calendar';
import { load, loadTool, type LoadResult } from './_http-load';
import { createBenchDatabase, seedReadData } from './_seed-read-data';
import { median } from './_stats';

const SCALES = (process.env.STATUS_BENCH_SCALES ?? '450,5000').split(',').map(Number);
const DAYS = 60;
const TRAFFIC_DAYS = 7;
const SLOTS_PER_DAY = 9;
const CONNECTIONS = 50;
/** Operator pages open (STATUS_BENCH_PAGES, default 5): each asks status every 5 s, freshness every 10 s. */
const PAGES = Math.max(1, Number(process.env.STATUS_BENCH_PAGES ?? 5));
const STATUS_EVERY_MS = 5000 / PAGES;
const FRESHNESS_EVERY_MS = 10_000 / PAGES;
const NEVER = '0 0 1 1 *';
const TARGET_RATIO = 1.5;
/** Past the time a reading is shared (10 s), so the idle calls time a reading, not a copy. */
const READ_AGAIN_MS = 10_500;
const STATUS = '/api/v1/experience/sync/status';
const FRESHNESS = '/api/v1/experience/sync/freshness';

/** Where the service processes write a CPU profile on exit (`node --cpu-prof`), when set. */
const CPU_PROF_DIR = process.env.STATUS_BENCH_CPU_PROF;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Which CPUs each side runs on (taskset lists), or null: not pinned. */
const PINNING = ((): { service: string; load: string } | null => {
  const cpus = availableParallelism();
  if (process.env.STATUS_BENCH_PIN === '0' || cpus < 2 || !hasTaskset()) return null;
  return { service: cpus === 2 ? '0' : `0-${cpus - 2}`, load: String(cpus - 1) };
})();

/** Moves process `pid` (every thread of it) to `cpus`. */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/** The PostgreSQL backends of the bench database (this bench's own connection among them). */
async function databaseBackends(url: string): Promise<number[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
    );
    return r.rows.map((row) => row.pid);
  } finally {
    await c.end();
  }
}

/**
 * Pins the PostgreSQL backends of the bench database to the service's CPUs (the service opens
 * its connections lazily, so this runs before every window). A backend that ended meanwhile is
 * skipped.
 */
async function pinDatabase(url: string): Promise<void> {
  if (!PINNING) return;
  for (const pid of await databaseBackends(url)) {
    try {
      pin(pid, PINNING.service);
    } catch {
      // The backend ended meanwhile.
    }
  }
}

/** CPU time (user + system, ms) used so far by each of `pids` that still runs (Linux /proc). */
function cpuMsOf(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100);
    } catch {
      // Ended, or not Linux.
    }
  }
  return out;
}

/**
 * Counts the CPU time the bench database's backends use from now until `stop`: the backends
 * alive at either end (parallel workers that came and went in between are not counted).
 */
async function databaseCpu(url: string): Promise<{ stop: () => Promise<number> }> {
  const start = cpuMsOf(await databaseBackends(url));
  return {
    stop: async () => {
      const end = cpuMsOf(await databaseBackends(url));
      let ms = 0;
      for (const [pid, at] of end) ms += at - (start.get(pid) ?? 0);
      return ms;
    },
  };
}

interface Build {
  name: string;
  /** The checkout it runs in (its migrations and operator page files). */
  root: string;
  main: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function seed(url: string, products: number, today: string): Promise<void> {
  await seedReadData(url, {
    products,
    days: TRAFFIC_DAYS,
    slotsPerDay: SLOTS_PER_DAY,
    from: today,
  });
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO product_date_syncs
         (product_id, date, last_attempt_at, last_success_at, last_outcome, last_error, slot_count)
       SELECT p, $1::date + d,
              CASE WHEN (p + d) % 13 = 0 THEN now() - interval '1 minute'
                   ELSE now() - ((p * 7 + d * 3) % 600) * interval '1 minute' END,
              now() - ((p * 7 + d * 3) % 600) * interval '1 minute',
              CASE WHEN (p + d) % 13 = 0 THEN 'server_error' ELSE 'unchanged' END,
              CASE WHEN (p + d) % 13 = 0 THEN 'Partner answered 503' END,
              (p + d) % 10
         FROM generate_series(1, $2::int) p, generate_series($3::int, $4::int - 1) d
        WHERE (p * 31 + d) % 11 <> 0`,
      [today, products, TRAFFIC_DAYS, DAYS],
    );
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Service {
  url: string;
  child: ChildProcess;
}

async function startService(
  build: Build,
  databaseUrl: string,
  products: number,
  round: number,
): Promise<Service> {
  const port = await freePort();
  const profile = CPU_PROF_DIR
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${CPU_PROF_DIR}`,
        `--cpu-prof-name=${build.name.replace(/\W+/g, '-')}-${products}-${round}.cpuprofile`,
      ]
    : [];
  const command = [process.execPath, ...profile, build.main];
  const [file, ...args] = PINNING ? ['taskset', '-c', PINNING.service, ...command] : command;
  const child = spawn(file, args, {
    cwd: build.root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'status-load-bench-admin-token-0123456789',
      DATABASE_URL: databaseUrl,
      PARTNER_API_URL: 'http://127.0.0.1:9',
      PARTNER_API_KEY: 'bench-key',
      SYNC_ON_BOOT: 'false',
      SYNC_PRODUCT_IDS: Array.from({ length: products }, (_, i) => i + 1).join(','),
      SYNC_TIMEZONE: 'UTC',
      SYNC_CRON_DAILY: NEVER,
      SYNC_CRON_FOUR_HOURLY: NEVER,
      SYNC_CRON_QUARTER_HOURLY: NEVER,
      SYNC_CRON_EXTENDED: NEVER,
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${build.name} exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${url}/health/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${build.name} not ready after 180 s`);
    await sleep(250);
  }
  return { url, child };
}

/**
 * Waits until no backend of the database is busy: a killed service's statements run on in
 * PostgreSQL (a scan of 5,000 products for the older build takes seconds) and would load the
 * next measurement.
 */
async function waitForQuietDatabase(url: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const r = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
      );
      if (Number(r.rows[0].n) === 0) return;
      await sleep(500);
    }
  } finally {
    await c.end();
  }
}

async function stopService(s: Service): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
  s.child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (s.child.exitCode === null) s.child.kill('SIGKILL');
}

/**
 * The service's event-loop lag gauge (ms; reading it starts a new interval) and the CPU time its
 * process has used (user + system, ms).
 */
async function serviceGauges(url: string): Promise<{ lagMs: number; cpuMs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lag = /^inventory_sync_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  const cpu = /^inventory_sync_process_cpu_seconds_total (\S+)$/m.exec(text);
  return {
    lagMs: lag ? Number(lag[1]) * 1000 : NaN,
    cpuMs: cpu ? Number(cpu[1]) * 1000 : NaN,
  };
}

interface Poll {
  ms: number;
  bytes: number;
  status: number;
}

async function timedGet(url: string): Promise<Poll> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await res.arrayBuffer();
  return { ms: performance.now() - t0, bytes: body.byteLength, status: res.status };
}

/** Asks for `path` every `everyMs` (after the previous answer) until stopped. */
function poller(url: string, everyMs: number): { stop: () => Promise<Poll[]> } {
  const polls: Poll[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      polls.push(await timedGet(url));
      await sleep(Math.max(0, everyMs - (Date.now() - started)));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return polls;
    },
  };
}

/** One without-the-page window and the with-the-page window after it. */
interface Pair {
  idle: LoadResult;
  page: LoadResult;
  /** p99 with the page / p99 without. */
  ratio: number;
}

interface Measurement {
  build: string;
  round: number;
  pairs: Pair[];
  idleLagMs: number;
  pageLagMs: number;
  /** Service CPU (ms) per 1,000 slots reads, without and with the page (its own work included). */
  idleCpuPerK: number;
  pageCpuPerK: number;
  /** The same for the database's backends. */
  idleDbCpuPerK: number;
  pageDbCpuPerK: number;
  /** The 1-minute load average at the start and the end. */
  loadAverage: [number, number];
  statusMs: number;
  statusBytes: number;
  freshnessMs: number;
  freshnessBytes: number;
  polls: {
    status: number;
    freshness: number;
    non2xx: number;
    statusMaxMs: number;
    freshnessMaxMs: number;
  };
}

async function measure(
  build: Build,
  round: number,
  databaseUrl: string,
  products: number,
  today: string,
  seconds: number,
  pairCount: number,
): Promise<Measurement> {
  const loadAtStart = loadavg()[0];
  const service = await startService(build, databaseUrl, products, round);
  try {
    const traffic = {
      kind: 'slots' as const,
      products,
      dates: Array.from({ length: TRAFFIC_DAYS }, (_, i) => addDays(today, i)),
    };
    const run = async (s: number): Promise<LoadResult> => {
      await pinDatabase(databaseUrl);
      return load({
        url: service.url,
        traffic,
        seconds: s,
        connections: CONNECTIONS,
        // One wrk thread per CPU it has.
        threads: PINNING ? 1 : 2,
        cpus: PINNING?.load,
      });
    };
    await run(5); // warm-up: the read cache and the JIT
    const pairs: Pair[] = [];
    const idleLags: number[] = [];
    const pageLags: number[] = [];
    const cpu = { idleMs: 0, idleDbMs: 0, idleReads: 0, pageMs: 0, pageDbMs: 0, pageReads: 0 };
    const sp: Poll[] = [];
    const fp: Poll[] = [];
    for (let i = 0; i < pairCount; i++) {
      let before = await serviceGauges(service.url);
      let db = await databaseCpu(databaseUrl);
      const idle = await run(seconds);
      cpu.idleDbMs += await db.stop();
      let after = await serviceGauges(service.url);
      idleLags.push(after.lagMs);
      cpu.idleMs += after.cpuMs - before.cpuMs;
      cpu.idleReads += idle.requests;

      before = await serviceGauges(service.url);
      db = await databaseCpu(databaseUrl);
      const statusPolls = poller(`${service.url}${STATUS}`, STATUS_EVERY_MS);
      const freshnessPolls = poller(`${service.url}${FRESHNESS}`, FRESHNESS_EVERY_MS);
      const page = await run(seconds);
      const [s1, f1] = await Promise.all([statusPolls.stop(), freshnessPolls.stop()]);
      cpu.pageDbMs += await db.stop();
      sp.push(...s1);
      fp.push(...f1);
      after = await serviceGauges(service.url);
      pageLags.push(after.lagMs);
      cpu.pageMs += after.cpuMs - before.cpuMs;
      cpu.pageReads += page.requests;
      pairs.push({ idle, page, ratio: page.p99Ms / idle.p99Ms });
    }

    const status: Poll[] = [];
    const freshness: Poll[] = [];
    for (let i = 0; i < 2; i++) {
      await sleep(READ_AGAIN_MS);
      status.push(await timedGet(`${service.url}${STATUS}`));
      freshness.push(await timedGet(`${service.url}${FRESHNESS}`));
    }
    return {
      build: build.name,
      round,
      pairs,
      idleLagMs: Math.max(...idleLags),
      pageLagMs: Math.max(...pageLags),
      idleCpuPerK: (1000 * cpu.idleMs) / cpu.idleReads,
      pageCpuPerK: (1000 * cpu.pageMs) / cpu.pageReads,
      idleDbCpuPerK: (1000 * cpu.idleDbMs) / cpu.idleReads,
      pageDbCpuPerK: (1000 * cpu.pageDbMs) / cpu.pageReads,
      loadAverage: [loadAtStart, loadavg()[0]],
      statusMs: median(status.map((p) => p.ms)),
      statusBytes: median(status.map((p) => p.bytes)),
      freshnessMs: median(freshness.map((p) => p.ms)),
      freshnessBytes: median(freshness.map((p) => p.bytes)),
      polls: {
        status: sp.length,
        freshness: fp.length,
        non2xx: [...sp, ...fp, ...status, ...freshness].filter((p) => p.status !== 200).length,
        statusMaxMs: Math.max(...sp.map((p) => p.ms)),
        freshnessMaxMs: Math.max(...fp.map((p) => p.ms)),
      },
    };
  } finally {
    await stopService(service);
    await waitForQuietDatabase(databaseUrl);
  }
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const times = (x: number): string => `${x.toFixed(2)}×`;

/** "median (min–max, n pairs)" of some ratios. */
function spread(ratios: number[]): string {
  return (
    `${times(median(ratios))} (${times(Math.min(...ratios))}–${times(Math.max(...ratios))}, ` +
    `${ratios.length} pairs)`
  );
}

async function main(): Promise<void> {
  const seconds = Math.max(3, Number(process.argv[2] ?? 10));
  const pairCount = Math.max(1, Number(process.argv[3] ?? 3));
  const rounds = Math.max(1, Number(process.argv[4] ?? 1));
  // This build as `npm run bench` compiled it (dist-bench/src is the service).
  const after: Build = {
    name: 'this build',
    root: process.cwd(),
    main: path.join(__dirname, '..', 'src', 'main.js'),
  };
  const beforeRoot =
    process.env.STATUS_BENCH_BEFORE && path.resolve(process.env.STATUS_BENCH_BEFORE);
  const builds = beforeRoot
    ? [{ name: 'before', root: beforeRoot, main: path.join(beforeRoot, 'dist', 'main.js') }, after]
    : [after];
  // The pollers run here: on the load generator's side.
  if (PINNING) pin(process.pid, PINNING.load);
  const today = todayIn('UTC');
  console.log(
    `\nstatus-load: slots reads (${CONNECTIONS} connections, ${loadTool}), ${pairCount} pairs of ` +
      `${seconds} s without and ${seconds} s with status every ${STATUS_EVERY_MS / 1000} s and ` +
      `freshness every ${FRESHNESS_EVERY_MS / 1000} s, ${rounds} round(s); ` +
      (PINNING
        ? `service and its database on CPU ${PINNING.service}, load on CPU ${PINNING.load}`
        : 'not pinned') +
      `; builds: ${builds.map((b) => `${b.name} (${b.root})`).join(', ')}`,
  );
  const verdicts: string[] = [];
  let met = true;
  for (const products of SCALES) {
    const db = await createBenchDatabase();
    try {
      const t0 = Date.now();
      await seed(db.url, products, today);
      console.log(
        `\n### ${products} products × ${DAYS} dates (seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
      );
      console.log(
        '| build | round | load avg | slots req/s, no page / page (median) | p99 ms, no page / page (median) | p99 ratio per pair | p99 ratio, median | loop lag max ms (no page / page) | CPU ms per 1,000 reads, service (no page / page) | database (no page / page) | status ms, size | freshness ms, size | polls (status / freshness, max ms) |',
      );
      console.log(
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      );
      const ratios = new Map<string, number[]>(builds.map((b) => [b.name, []]));
      for (let round = 1; round <= rounds; round++) {
        for (const build of builds) {
          const m = await measure(build, round, db.url, products, today, seconds, pairCount);
          const pairRatios = m.pairs.map((p) => p.ratio);
          ratios.get(build.name)?.push(...pairRatios);
          const med = (f: (p: Pair) => number) => median(m.pairs.map(f)).toFixed(0);
          const errors = m.pairs.reduce(
            (a, p) => a + p.idle.non2xx + p.idle.errors + p.page.non2xx + p.page.errors,
            0,
          );
          console.log(
            `| ${m.build} | ${round} | ${m.loadAverage.map((l) => l.toFixed(1)).join(' → ')} | ` +
              `${med((p) => p.idle.reqPerSec)} / ${med((p) => p.page.reqPerSec)} | ` +
              `${med((p) => p.idle.p99Ms)} / ${med((p) => p.page.p99Ms)} | ` +
              `${m.pairs.map((p) => `${p.idle.p99Ms.toFixed(0)}→${p.page.p99Ms.toFixed(0)}`).join(', ')} | ` +
              `${times(median(pairRatios))} | ` +
              `${m.idleLagMs.toFixed(0)} / ${m.pageLagMs.toFixed(0)} | ` +
              `${m.idleCpuPerK.toFixed(0)} / ${m.pageCpuPerK.toFixed(0)} | ` +
              `${m.idleDbCpuPerK.toFixed(0)} / ${m.pageDbCpuPerK.toFixed(0)} | ` +
              `${m.statusMs.toFixed(0)}, ${kb(m.statusBytes)} | ${m.freshnessMs.toFixed(0)}, ${kb(m.freshnessBytes)} | ` +
              `${m.polls.status} / ${m.polls.freshness}, ${m.polls.statusMaxMs.toFixed(0)} / ${m.polls.freshnessMaxMs.toFixed(0)}` +
              `${errors + m.polls.non2xx ? ` (non-2xx or errors: ${errors + m.polls.non2xx})` : ''} |`,
          );
        }
      }
      for (const build of builds) {
        const r = ratios.get(build.name) ?? [];
        const ok = median(r) <= TARGET_RATIO;
        if (build === after) met &&= ok;
        verdicts.push(
          `- ${products} products, ${build.name}: slots p99 with the page open / without, ` +
            `median ${spread(r)}` +
            (build === after ? `; ≤ ${TARGET_RATIO}×: ${ok ? 'met' : 'NO'}` : ''),
        );
      }
    } finally {
      await db.drop();
    }
  }
  console.log(`\n${verdicts.join('\n')}`);
  if (!met) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
