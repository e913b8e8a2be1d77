/**
 * Failover time: kill -9 of the sync leader → first partner call by the new leader.
 *
 *   npm run build && npm run bench -- failover [trials, default 10] [leaseMs, default 3000]
 *
 * Runs the built service (dist/main.js) twice against one fresh PostgreSQL database and the
 * project's partner simulator (dist/partner/simulator/main.js, 10 requests per 1000 ms), with
 * 40 products so there is always a backlog of stale product-dates. Each trial finds the leader,
 * SIGKILLs it, polls the simulator's request counter every 10 ms until it moves (only the new
 * leader can call: the old one is dead), then restarts the killed instance as a follower.
 * Prints each trial and the median and max in Markdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';

const ROOT = path.resolve(__dirname, '..', '..');
const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const KEY = 'bench-failover-key';

interface Proc {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function start(script: string, env: Record<string, string>, pattern: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, [path.join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${out}`)), 60000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 100_000) out = out.slice(-10_000);
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1].replace('[::1]', '127.0.0.1'), exited });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  });
}

async function json<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 10);
  const leaseMs = Number(process.argv[3] ?? 3000);
  const dbName = `inv_benchfo_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  const sim = await start(
    'dist/partner/simulator/main.js',
    { SIM_PORT: '0', SIM_API_KEY: KEY, SIM_RATE_LIMIT: '10', SIM_RATE_WINDOW_MS: '1000' },
    /"url":"(http:\/\/[^"]+)"/,
  );
  const env = (id: string): Record<string, string> => ({
    DATABASE_URL: u.toString(),
    PARTNER_API_URL: sim.url,
    PARTNER_API_KEY: KEY,
    PARTNER_RATE_LIMIT: '10',
    PARTNER_RATE_WINDOW_MS: '1000',
    INSTANCE_ID: id,
    LEADER_LEASE_MS: String(leaseMs),
    SYNC_PRODUCT_IDS: Array.from({ length: 40 }, (_, i) => i + 1).join(','),
    LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
  });
  const listening = /^(?=.*"msg":"listening").*"url":"(http:\/\/[^"]+)"/m;
  const nodes = new Map<string, Proc>();
  for (const id of ['bench-a', 'bench-b']) {
    nodes.set(id, await start('dist/main.js', env(id), listening));
  }
  const results: number[] = [];
  try {
    for (let t = 1; t <= trials; t++) {
      let leader: string | undefined;
      for (let i = 0; i < 400 && !leader; i++) {
        const s = await json<{ instance: { id: string; leader: boolean } }>(
          `${[...nodes.values()][0].url}/api/v1/experience/sync/status`,
        ).catch(() => undefined);
        const views = await Promise.all(
          [...nodes.values()].map((n) =>
            json<{ instance: { id: string; leader: boolean } }>(
              `${n.url}/api/v1/experience/sync/status`,
            ).catch(() => s),
          ),
        );
        leader = views.find((v) => v?.instance.leader)?.instance.id;
        if (!leader) await new Promise((r) => setTimeout(r, 50));
      }
      if (!leader) throw new Error('no leader');
      // Let the leader spend a little so the kill lands mid-sync.
      await new Promise((r) => setTimeout(r, 1500));
      const victim = nodes.get(leader)!;
      victim.child.kill('SIGKILL');
      const killedAt = performance.now();
      await victim.exited;
      const base = (await json<{ total: number }>(`${sim.url}/__sim/stats`)).total;
      let firstCall: number | undefined;
      while (performance.now() - killedAt < 10 * leaseMs) {
        const { total } = await json<{ total: number }>(`${sim.url}/__sim/stats`);
        if (total > base) {
          firstCall = performance.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      if (firstCall === undefined) throw new Error(`trial ${t}: no partner call after the kill`);
      results.push(firstCall - killedAt);
      console.log(
        `trial ${t}: killed ${leader}, first call by the new leader after ${Math.round(firstCall - killedAt)} ms`,
      );
      nodes.set(leader, await start('dist/main.js', env(leader), listening));
    }
  } finally {
    for (const n of nodes.values()) n.child.kill('SIGKILL');
    sim.child.kill('SIGKILL');
    await Promise.all([...nodes.values()].map((n) => n.exited));
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
  const sorted = [...results].sort((a, b) => a - b);
  const median =
    sorted.length % 2
      ? sorted[(sorted.length - 1) / 2]
      : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  console.log(`\n| trials | LEADER_LEASE_MS | median | max | min |\n|---|---|---|---|---|`);
  console.log(
    `| ${results.length} | ${leaseMs} | ${Math.round(median)} ms | ${Math.round(sorted[sorted.length - 1])} ms | ${Math.round(sorted[0])} ms |`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
