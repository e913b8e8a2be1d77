/**
 * HTTP load for the read benchmarks: wrk when it is installed (C, so the load generator takes
 * far less of the shared CPU than the servers it measures), else autocannon (a devDependency).
 * Both ask for a random product (and a random one of `dates`) per request and count every answer
 * that is not 2xx.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { autocannon } from './_autocannon';

export interface Traffic {
  kind: 'slots' | 'dates';
  /** Product ids 1..products. */
  products: number;
  /** Slots requests pick one of these dates (YYYY-MM-DD). */
  dates: string[];
}

export interface LoadResult {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  traffic: Traffic;
  seconds: number;
  connections: number;
  threads: number;
  /**
   * The CPUs the load generator runs on (a taskset list such as "1"), so it does not take the
   * measured service's CPU; unset: wherever the kernel puts it. With it, autocannon runs in a
   * process of its own (else in the caller's), so the caller's work does not delay its requests.
   */
  cpus?: string;
}

const pick = (n: number): number => Math.floor(Math.random() * n);

export function randomPath(t: Traffic): string {
  const product = 1 + pick(t.products);
  return t.kind === 'slots'
    ? `/api/v1/experience/${product}/slots?date=${t.dates[pick(t.dates.length)]}`
    : `/api/v1/experience/${product}/dates`;
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

// Each wrk thread has its own Lua state: setup() keeps the threads so done() can add their counts.
const WRK_SCRIPT = `
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  kind = args[1]
  products = tonumber(args[2])
  dates = {}
  for d in string.gmatch(args[3] or "", "[^,]+") do table.insert(dates, d) end
  math.randomseed(os.time() * 1000 + id)
  non2xx = 0
end
function request()
  local p = math.random(products)
  if kind == "slots" then
    return wrk.format("GET", "/api/v1/experience/" .. p .. "/slots?date=" .. dates[math.random(#dates)])
  end
  return wrk.format("GET", "/api/v1/experience/" .. p .. "/dates")
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), n,
    e.connect + e.read + e.write + e.timeout))
end
`;

let wrkScript: string | undefined;

function wrkLoad(o: LoadOptions): Promise<LoadResult> {
  if (!wrkScript) {
    wrkScript = path.join(mkdtempSync(path.join(tmpdir(), 'read-bench-')), 'random-reads.lua');
    writeFileSync(wrkScript, WRK_SCRIPT);
  }
  const wrkArgs = [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    wrkScript,
    o.url,
    '--',
    o.traffic.kind,
    String(o.traffic.products),
    o.traffic.dates.join(','),
  ];
  const [command, args] = o.cpus
    ? ['taskset', ['-c', o.cpus, 'wrk', ...wrkArgs]]
    : ['wrk', wrkArgs];
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}`));
      const m = /WRK_RESULT (\{.*\})/.exec(stdout);
      if (!m) return reject(new Error(`no result from wrk:\n${stdout}`));
      const r = JSON.parse(m[1]) as {
        requests: number;
        durationUs: number;
        p50Us: number;
        p99Us: number;
        non2xx: number;
        errors: number;
      };
      resolve({
        reqPerSec: r.requests / (r.durationUs / 1e6),
        p50Ms: r.p50Us / 1000,
        p99Ms: r.p99Us / 1000,
        requests: r.requests,
        non2xx: r.non2xx,
        errors: r.errors,
      });
    });
  });
}

export function autocannonLoad(o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: o.url,
        connections: o.connections,
        duration: o.seconds,
        requests: [{ setupRequest: (req) => ({ ...req, path: randomPath(o.traffic) }) }],
      },
      (err, r) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        resolve({
          reqPerSec: r.requests.average,
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          requests: r.requests.total,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
        });
      },
    );
  });
}

/** autocannon in a process of its own on `o.cpus` (see _load-process.ts). */
function autocannonProcessLoad(o: LoadOptions & { cpus: string }): Promise<LoadResult> {
  const script = path.join(__dirname, '_load-process.js');
  const options = JSON.stringify({ ...o, cpus: undefined });
  return new Promise((resolve, reject) => {
    execFile(
      'taskset',
      ['-c', o.cpus, process.execPath, script, options],
      { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`load process failed: ${err.message} ${stderr}`));
        const m = /LOAD_RESULT (\{.*\})/.exec(stdout);
        if (!m) return reject(new Error(`no result from the load process:\n${stdout}`));
        resolve(JSON.parse(m[1]) as LoadResult);
      },
    );
  });
}

/** The tool `load` uses: `wrk` or `autocannon`. */
export const loadTool: 'wrk' | 'autocannon' =
  process.env.BENCH_LOAD_TOOL === 'autocannon' || !hasWrk() ? 'autocannon' : 'wrk';

export function load(o: LoadOptions): Promise<LoadResult> {
  if (loadTool === 'wrk') return wrkLoad(o);
  return o.cpus ? autocannonProcessLoad({ ...o, cpus: o.cpus }) : autocannonLoad(o);
}
