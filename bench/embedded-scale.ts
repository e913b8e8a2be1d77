/**
 * The embedded database (PGlite) at many products: boot to ready, the boot catch-up, a manual
 * daily run and the process' memory.
 *
 *   npm run build && npm run bench -- embedded-scale [products, default 5000] [root …]
 *
 * Each root is a built checkout (its dist/main.js; default this one): give an older checkout
 * first to measure before and after side by side in one run. For each, the service starts twice
 * in demo mode (built-in partner simulator) with SYNC_PRODUCT_IDS = 1..N and the boot catch-up
 * on: on a fresh data folder, then again on the same folder (a restart, its product-dates
 * already there). The bench reads its log lines and samples its RSS (VmRSS) every 250 ms:
 * - ready: spawn → the "listening" line;
 * - catch-up: spawn → the line that ends the boot rule ("overdue product-dates marked due", or
 *   the failure line);
 * - RSS at ready, the peak until 10 s after the catch-up, and then (steady);
 * - the manual run: POST /sync/run {"window":"daily"}: status and response time;
 * - then 20 s more; over the whole boot, how many outages ("database unavailable": there is none,
 *   the database is in the process) and overdue-rule failures were logged.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TOKEN = 'bench-embedded-admin-token-0123456789';

interface Result {
  root: string;
  boot: 'fresh' | 'restart';
  readyMs: number | null;
  catchUpMs: number | null;
  catchUpOutcome: string;
  rssReadyMb: number;
  rssPeakMb: number;
  rssSteadyMb: number;
  runStatus: number | string;
  runMs: number;
  outages: number;
  ruleFailures: number;
}

const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function measure(
  root: string,
  products: number,
  dataDir: string,
  boot: Result['boot'],
): Promise<Result> {
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(root, 'dist', 'main.js'), '--demo'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ADMIN_TOKEN: TOKEN,
      SYNC_ON_BOOT: 'true',
      SYNC_PRODUCT_IDS: Array.from({ length: products }, (_, i) => i + 1).join(','),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let out = '';
  let url: string | null = null;
  let readyMs: number | null = null;
  let catchUpMs: number | null = null;
  let catchUpOutcome = 'none within 180 s';
  let outages = 0;
  let ruleFailures = 0;
  const onLine = (line: string): void => {
    if (readyMs === null) {
      const m = /"msg":"listening".*"url":"(http:\/\/[^"]+)"/.exec(line);
      if (m) {
        url = m[1].replace('[::1]', '127.0.0.1');
        readyMs = Date.now() - started;
      }
    }
    if (line.includes('could not apply the overdue rule')) ruleFailures++;
    if (line.includes('"msg":"database unavailable')) outages++;
    if (catchUpMs === null && line.includes('"reason":"boot"')) {
      if (line.includes('overdue product-dates marked due')) {
        catchUpMs = Date.now() - started;
        catchUpOutcome = 'marked';
      } else if (line.includes('could not apply the overdue rule')) {
        catchUpMs = Date.now() - started;
        catchUpOutcome = 'failed';
      }
    }
  };
  let partial = '';
  const feed = (d: Buffer): void => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      onLine(l);
      out += `${l}\n`;
      if (out.length > 200_000) out = out.slice(-20_000);
    }
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  let rssPeakMb = 0;
  const sampler = setInterval(() => (rssPeakMb = Math.max(rssPeakMb, rssMb(pid))), 250);
  try {
    const deadline = started + 180_000;
    while (readyMs === null && Date.now() < deadline && child.exitCode === null) await sleep(50);
    if (readyMs === null) throw new Error(`${root}: the service did not start:\n${out}`);
    const rssReadyMb = rssMb(pid);
    while (catchUpMs === null && Date.now() < deadline) await sleep(50);
    await sleep(10_000);
    const rssSteadyMb = rssMb(pid);
    const t0 = Date.now();
    let runStatus: number | string;
    try {
      const res = await fetch(`${url}/api/v1/experience/sync/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ window: 'daily' }),
        signal: AbortSignal.timeout(60_000),
      });
      runStatus = res.status;
      await res.arrayBuffer();
    } catch (err) {
      runStatus = (err as Error).name;
    }
    const runMs = Date.now() - t0;
    await sleep(20_000);
    return {
      root,
      boot,
      readyMs,
      catchUpMs,
      catchUpOutcome,
      rssReadyMb,
      rssPeakMb,
      rssSteadyMb,
      runStatus,
      runMs,
      outages,
      ruleFailures,
    };
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  }
}

async function main(): Promise<void> {
  const products = Number(process.argv[2] ?? 5000);
  const roots = process.argv.slice(3);
  if (roots.length === 0) roots.push(path.resolve(__dirname, '..', '..'));
  const results: Result[] = [];
  for (const root of roots) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-embedded-'));
    try {
      for (const boot of ['fresh', 'restart'] as const) {
        const r = await measure(path.resolve(root), products, dataDir, boot);
        console.log(JSON.stringify(r));
        results.push(r);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const s = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
  console.log(`\n${products} products × 60 dates, embedded database, demo mode\n`);
  console.log(
    '| checkout | boot | ready | catch-up | RSS at ready / peak / steady | manual daily run | false outages, rule failures (whole boot) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${path.basename(r.root)} | ${r.boot} | ${s(r.readyMs)} | ${s(r.catchUpMs)} ${r.catchUpOutcome} | ` +
        `${r.rssReadyMb} / ${r.rssPeakMb} / ${r.rssSteadyMb} MB | ${r.runStatus} in ${s(r.runMs)} | ` +
        `${r.outages}, ${r.ruleFailures} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
