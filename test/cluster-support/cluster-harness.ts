import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT, startServiceProcess, type ServiceProcess } from '../support/service-process';

export const SIM_KEY = 'cluster-test-key';
export const ADMIN_TOKEN = 'cluster-admin-token-0123456789';

export interface SimStats {
  total: number;
  byStatus: Record<string, number>;
  perProductDate: Record<string, number>;
  busiestWindow: number;
}

/** The project's partner simulator (dist/partner/simulator/main.js) as its own process. */
export interface SimulatorProcess {
  url: string;
  child: ChildProcess;
  stats(): Promise<SimStats>;
  stop(): Promise<void>;
}

export async function startSimulator(env: Record<string, string>): Promise<SimulatorProcess> {
  const main = path.join(PROJECT_ROOT, 'dist', 'partner', 'simulator', 'main.js');
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, SIM_PORT: '0', SIM_API_KEY: SIM_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start:\n${out}`)), 15000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}:\n${out}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    child,
    stats: async () => (await (await fetch(`${url}/__sim/stats`)).json()) as SimStats,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Environment of one instance of the cluster under test. */
export function instanceEnv(
  id: string,
  shared: { databaseUrl: string; partnerUrl: string; redisUrl?: string },
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  return {
    DATABASE_URL: shared.databaseUrl,
    PARTNER_API_URL: shared.partnerUrl,
    PARTNER_API_KEY: SIM_KEY,
    PARTNER_RATE_LIMIT: '5',
    PARTNER_RATE_WINDOW_MS: '1000',
    PARTNER_TIMEOUT_MS: '3000',
    REDIS_URL: shared.redisUrl,
    ADMIN_TOKEN,
    INSTANCE_ID: id,
    LEADER_LEASE_MS: '3000',
    SYNC_PRODUCT_IDS: '14,15,16',
    SYNC_ON_BOOT: 'true',
    // A quarter-hourly tick every 4 s, so scheduled occurrences happen during the suite.
    SYNC_CRON_QUARTER_HOURLY: '*/4 * * * * *',
    DATABASE_POOL_SIZE: '4',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export function startInstance(env: Record<string, string | undefined>): Promise<ServiceProcess> {
  return startServiceProcess(env, []);
}

export interface StatusView {
  instance: { id: string; leader: boolean };
  leader: { id: string; since: string } | null;
  paused: boolean;
  limiter: { limit: number; queued: number; running: number };
  recentRuns: { id: number; outcome: string; finishedAt: string | null }[];
}

export async function status(baseUrl: string): Promise<StatusView> {
  const res = await fetch(`${baseUrl}/api/v1/experience/sync/status`);
  if (res.status !== 200) throw new Error(`status answered ${res.status}`);
  return (await res.json()) as StatusView;
}

/** Sum of inventory_sync_partner_calls_total over all outcomes, from the instance's /metrics. */
export async function partnerCallsOf(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('inventory_sync_partner_calls_total')) sum += Number(line.split(' ').pop());
  }
  return sum;
}
