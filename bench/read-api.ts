/**
 * Read API throughput and latency against a bare NestJS hello-world, in interleaved rounds.
 *
 *   npm run bench -- read-api [seconds per measurement, default 8] [rounds, default 3]
 *   READ_BENCH_CPU_PROF=/tmp/prof npm run bench -- read-api   # also writes a .cpuprofile per service
 *
 * Seeds a fresh database with 450 products × 60 days × 9 slots × 3 pax (bulk INSERTs) and starts,
 * each in its own process: the bare hello-world (bench/_hello-world.ts, the read API's route
 * shape and nothing else) and the service as production builds it (createApp) three times: warm
 * (the default cache settings, every key requested once beforehand), warm without access logs
 * (LOG_LEVEL=warn: the cost of the access log) and cold (cache off: every request queries
 * PostgreSQL). Every product-date has the answer its sync stores (slot_answers) but the 7 days
 * after the traffic's, which the cold server also reads: the JSON built live, as for a
 * product-date not synced since slot_answers was added. Logs go to /dev/null. Each round loads every server in turn with the same traffic
 * (a random product, and for slots one of the next 7 days), so the machine's other load hits all
 * of them alike: read the ratios within a round. The service runs on Fastify; the hello-world
 * runs on both adapters (bench/_hello-fastify.ts), and the targets are checked against both.
 * Prints a Markdown report, ending with the issue's targets checked on the medians.
 */
import 'reflect-metadata';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { createApp } from '../src/app.factory';
import { addDays, addMonths, todayIn } from '../src/inventory/calendar';
import { slotAnswersQuery } from '../src/inventory/read/slot-answers.repository';
import { datesQuery, slotsQuery } from '../src/inventory/read/slot-read.service';
import { AppLogger } from '../src/ops/app-logger';
import { load, loadTool, type LoadResult, type Traffic } from './_http-load';
import { createBenchDatabase, seedReadData } from './_seed-read-data';

const PRODUCTS = 450;
const DAYS = 60;
const SLOTS_PER_DAY = 9;
/** Slots requests ask for one of the next days, where storefront reads concentrate. */
const TRAFFIC_DAYS = 7;
/**
 * The cold server also reads the 7 days after those, seeded without stored answers (as
 * product-dates stored before slot_answers existed): the live-built JSON side by side.
 */
const LIVE_OFFSET_DAYS = TRAFFIC_DAYS;
const COLD = 'slots, cold (cache off)';
const COLD_LIVE = 'slots, cold, no stored answer (JSON built live)';
const CONNECTIONS = 50;
const THREADS = 2;
const NEVER = '0 0 1 1 *';

type ServerName = 'hello' | 'hello-fastify' | 'warm' | 'warm-quiet' | 'cold';

/** The database URL a server connects with: its name as application_name, to find its backends. */
function serverDatabaseUrl(databaseUrl: string, server: ServerName): string {
  const u = new URL(databaseUrl);
  u.searchParams.set('application_name', `read-bench-${server}`);
  return u.toString();
}

function serviceEnv(databaseUrl: string, server: ServerName): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: serverDatabaseUrl(databaseUrl, server),
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
    // The access log is on at the default level; warm-quiet measures what it costs.
    LOG_LEVEL: server === 'warm-quiet' ? 'warn' : 'info',
    PORT: '0',
    HOST: '127.0.0.1',
  };
  // Warm runs use the default CACHE_TTL_MS and CACHE_MAX_ENTRIES, as production would.
  if (server === 'cold') env.CACHE_TTL_MS = '0';
  return env;
}

/** Child process: the service exactly as createApp builds it. */
async function serve(): Promise<void> {
  const config = loadConfig(process.env, 'production');
  const logger = new AppLogger({
    level: config.log.level,
    format: 'json',
    secrets: config.partner.apiKeys,
  });
  const app = await createApp(config, logger);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  process.send?.({ benchServer: url });
  process.on('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
}

interface Server {
  name: ServerName;
  url: string;
  child: ChildProcess;
}

/** Where the service processes write a CPU profile on exit (`node --cpu-prof`), when set. */
const CPU_PROF_DIR = process.env.READ_BENCH_CPU_PROF;

async function startServer(name: ServerName, databaseUrl: string): Promise<Server> {
  const [script, env] =
    name === 'hello'
      ? [path.join(__dirname, '_hello-world.js'), {}]
      : name === 'hello-fastify'
        ? [path.join(__dirname, '_hello-fastify.js'), {}]
        : [__filename, serviceEnv(databaseUrl, name)];
  const profile =
    CPU_PROF_DIR && script === __filename
      ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [];
  const child = spawn(process.execPath, [...profile, script, '--serve'], {
    env: { PATH: process.env.PATH, ...env },
    // stdout (the JSON log lines) to /dev/null; the URL comes over IPC.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 90_000);
    child.on('message', (m: { benchServer?: string }) => {
      if (m.benchServer) {
        clearTimeout(timer);
        resolve(m.benchServer);
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { name, url, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

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

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time (user + system) a process has used, in ms; 0 when it is gone. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of proc(5); the slice starts at field 3.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU of the server process and of its PostgreSQL backends, per request: unlike req/s, this
 * barely moves with the other load on the machine (it is what each request costs, not how much
 * CPU the server managed to get).
 */
class CpuMeter {
  constructor(private readonly admin: Client) {}

  async snapshot(server: Server): Promise<Map<string, number>> {
    const backends = await this.admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
      [`read-bench-${server.name}`],
    );
    const m = new Map<string, number>([['server', cpuMs(server.child.pid)]]);
    for (const { pid } of backends.rows) m.set(String(pid), cpuMs(pid));
    return m;
  }

  static used(
    before: Map<string, number>,
    after: Map<string, number>,
  ): { server: number; db: number } {
    let db = 0;
    for (const [k, v] of after) if (k !== 'server') db += v - (before.get(k) ?? 0);
    return { server: (after.get('server') ?? 0) - (before.get('server') ?? 0), db };
  }
}

interface Line {
  label: string;
  server: ServerName;
  traffic: Traffic;
}

interface Measured extends LoadResult {
  /** CPU µs per request: the server process, and its PostgreSQL backends. */
  serverCpuUs: number;
  dbCpuUs: number;
  round: number;
  label: string;
  server: ServerName;
  kind: Traffic['kind'];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n: number): string => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));

/** Issue 15's targets, each on the median over the rounds of ratios taken within a round. */
function targets(
  results: Measured[],
  ratio: (m: Measured) => number,
  p99Ratio: (m: Measured) => number,
  baseline: string,
): Array<{ target: string; measured: string; met: boolean }> {
  const of = (server: ServerName): Measured[] =>
    results.filter((m) => m.server === server && m.kind === 'slots');
  const warm = median(of('warm').map(ratio));
  const cold = median(
    of('cold')
      .filter((m) => m.label === COLD)
      .map(ratio),
  );
  const p99 = median(of('warm').map(p99Ratio));
  const bad = results.reduce((n, m) => n + m.non2xx + m.errors, 0);
  return [
    {
      target: `warm slots ≥ 75% of ${baseline} (req/s)`,
      measured: `${Math.round(100 * warm)}%`,
      met: warm >= 0.75,
    },
    {
      target: `cold slots ≥ 50% of ${baseline} (req/s)`,
      measured: `${Math.round(100 * cold)}%`,
      met: cold >= 0.5,
    },
    {
      target: `warm slots p99 ≤ 2× ${baseline}'s p99`,
      measured: `${p99.toFixed(2)}×`,
      met: p99 <= 2,
    },
    {
      target: '0 non-2xx answers (and 0 errors), every line',
      measured: String(bad),
      met: bad === 0,
    },
  ];
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 8);
  const rounds = Number(process.argv[3] ?? 3);
  const started = Date.now();
  const loadAtStart = loadavg().map((l) => l.toFixed(1));
  const today = todayIn('UTC');
  const db = await createBenchDatabase();
  const servers: Server[] = [];
  try {
    const trafficDates = Array.from({ length: TRAFFIC_DAYS }, (_, d) => addDays(today, d));
    const liveDates = trafficDates.map((d) => addDays(d, LIVE_OFFSET_DAYS));
    const seedStart = Date.now();
    const seeded = await seedReadData(db.url, {
      products: PRODUCTS,
      days: DAYS,
      slotsPerDay: SLOTS_PER_DAY,
      from: today,
      withoutAnswers: liveDates,
    });
    const seedMs = Date.now() - seedStart;
    console.error(`seeded ${seeded.slots} slots, ${seeded.pax} pax in ${seedMs} ms`);

    const names: ServerName[] = ['hello', 'hello-fastify', 'warm', 'warm-quiet', 'cold'];
    for (const name of names) servers.push(await startServer(name, db.url));
    const server = (n: ServerName): Server => servers.find((s) => s.name === n)!;

    const slots: Traffic = { kind: 'slots', products: PRODUCTS, dates: trafficDates };
    const slotsLive: Traffic = { kind: 'slots', products: PRODUCTS, dates: liveDates };
    const dates: Traffic = { kind: 'dates', products: PRODUCTS, dates: [] };
    const keys: string[] = [];
    for (let p = 1; p <= PRODUCTS; p++) {
      keys.push(`/api/v1/experience/${p}/dates`);
      for (const d of trafficDates) keys.push(`/api/v1/experience/${p}/slots?date=${d}`);
    }
    for (const s of servers) {
      // JIT warm-up for every server alike, then a full cache for the warm ones.
      await load({ url: s.url, traffic: slots, seconds: 2, connections: CONNECTIONS, threads: 2 });
      if (s.name === 'warm' || s.name === 'warm-quiet') {
        const primeStart = Date.now();
        await prime(s.url, keys);
        console.error(`${s.name}: primed ${keys.length} keys in ${Date.now() - primeStart} ms`);
      }
    }

    const lines: Line[] = [
      { label: 'hello world, slots route', server: 'hello', traffic: slots },
      { label: 'hello world on Fastify, slots route', server: 'hello-fastify', traffic: slots },
      { label: 'slots, warm', server: 'warm', traffic: slots },
      { label: 'slots, warm, no access log', server: 'warm-quiet', traffic: slots },
      { label: COLD, server: 'cold', traffic: slots },
      { label: COLD_LIVE, server: 'cold', traffic: slotsLive },
      { label: 'hello world, dates route', server: 'hello', traffic: dates },
      { label: 'hello world on Fastify, dates route', server: 'hello-fastify', traffic: dates },
      { label: 'dates, warm', server: 'warm', traffic: dates },
      { label: 'dates, cold (cache off)', server: 'cold', traffic: dates },
    ];
    const results: Measured[] = [];
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    const meter = new CpuMeter(admin);
    for (let round = 1; round <= rounds; round++) {
      for (const line of lines) {
        const before = await meter.snapshot(server(line.server));
        const r = await load({
          url: server(line.server).url,
          traffic: line.traffic,
          seconds,
          connections: CONNECTIONS,
          threads: THREADS,
        });
        const cpu = CpuMeter.used(before, await meter.snapshot(server(line.server)));
        results.push({
          ...r,
          serverCpuUs: (1000 * cpu.server) / r.requests,
          dbCpuUs: (1000 * cpu.db) / r.requests,
          round,
          label: line.label,
          server: line.server,
          kind: line.traffic.kind,
        });
        console.error(
          `round ${round} ${line.label}: ${Math.round(r.reqPerSec)} req/s p50 ${fmt(r.p50Ms)} ms p99 ${fmt(r.p99Ms)} ms non-2xx ${r.non2xx}`,
        );
      }
    }
    await admin.end();

    const baselineOf =
      (server: ServerName) =>
      (m: Measured): Measured =>
        results.find((h) => h.round === m.round && h.server === server && h.kind === m.kind)!;
    const helloOf = baselineOf('hello');
    const fastifyOf = baselineOf('hello-fastify');
    const ratio = (m: Measured): number => m.reqPerSec / helloOf(m).reqPerSec;
    const p99Ratio = (m: Measured): number => m.p99Ms / helloOf(m).p99Ms;
    const fastifyRatio = (m: Measured): number => m.reqPerSec / fastifyOf(m).reqPerSec;
    const fastifyP99Ratio = (m: Measured): number => m.p99Ms / fastifyOf(m).p99Ms;
    const pct = (x: number): string => `${Math.round(100 * x)}%`;
    const loadAvg = loadavg().map((l) => l.toFixed(1));
    const sample = 1 + Math.floor(Math.random() * PRODUCTS);
    const out = [
      `Read API, ${new Date().toISOString()}: ${PRODUCTS} products × ${DAYS} days × ${SLOTS_PER_DAY} slots ` +
        `(${seeded.slots} slots, ${seeded.pax} pax rows, seeded in ${(seedMs / 1000).toFixed(1)} s); ` +
        `${loadTool}${loadTool === 'wrk' ? ` ${THREADS} threads` : ''}, ${CONNECTIONS} connections, ` +
        `${seconds} s per line, ${rounds} interleaved rounds; load average (1, 5, 15 min) at the ` +
        `start ${loadAtStart.join(' ')}, at the end ${loadAvg.join(' ')}.`,
      '',
      '| round | endpoint | req/s | vs hello | p50 ms | p99 ms | p99 vs hello | server CPU µs/req | PostgreSQL CPU µs/req | requests | non-2xx | errors |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...results.map(
        (m) =>
          `| ${m.round} | ${m.label} | ${Math.round(m.reqPerSec)} | ${pct(ratio(m))} | ${fmt(m.p50Ms)} | ` +
          `${fmt(m.p99Ms)} | ${p99Ratio(m).toFixed(2)}× | ${Math.round(m.serverCpuUs)} | ` +
          `${Math.round(m.dbCpuUs)} | ${m.requests} | ${m.non2xx} | ${m.errors} |`,
      ),
      '',
      'Median over the rounds (each ratio taken within its round):',
      '',
      '| endpoint | vs hello (req/s) | min | p99 vs hello | max | server CPU per request vs hello | server + PostgreSQL CPU per request vs hello | vs Fastify hello (req/s) | p99 vs Fastify hello | non-2xx in all |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...lines
        .filter((l) => l.server !== 'hello')
        .map((l) => {
          const ms = results.filter((m) => m.label === l.label);
          const rs = ms.map(ratio);
          const ps = ms.map(p99Ratio);
          const bad = ms.reduce((n, m) => n + m.non2xx + m.errors, 0);
          const cpu = ms.map((m) => m.serverCpuUs / helloOf(m).serverCpuUs);
          const both = ms.map((m) => (m.serverCpuUs + m.dbCpuUs) / helloOf(m).serverCpuUs);
          const fs = ms.map(fastifyRatio);
          const fps = ms.map(fastifyP99Ratio);
          return (
            `| ${l.label} | ${pct(median(rs))} | ${pct(Math.min(...rs))} | ${median(ps).toFixed(2)}× | ` +
            `${Math.max(...ps).toFixed(2)}× | ${median(cpu).toFixed(2)}× | ${median(both).toFixed(2)}× | ` +
            `${pct(median(fs))} | ${median(fps).toFixed(2)}× | ${bad} |`
          );
        }),
      '',
      "The issue's targets, on the medians above (against the express hello-world, then the same",
      'targets against the Fastify one, which the issue asks to report as well):',
      '',
      '| target | measured | met |',
      '| --- | ---: | --- |',
      ...[
        ...targets(results, ratio, p99Ratio, 'the express hello world'),
        ...targets(results, fastifyRatio, fastifyP99Ratio, 'the Fastify hello world').slice(0, 3),
      ].map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'met' : 'not met'} |`),
      '',
      `Stored answer query plan (product ${sample}, ${addDays(today, 3)}):`,
      '',
      '```',
      await explain(db.url, slotAnswersQuery([{ productId: sample, date: addDays(today, 3) }])),
      '```',
      '',
      `Live slots query plan, the fallback (product ${sample}, ${liveDates[3]}):`,
      '',
      '```',
      await explain(db.url, slotsQuery(sample, liveDates[3])),
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
    for (const s of servers) await stopServer(s.child);
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
