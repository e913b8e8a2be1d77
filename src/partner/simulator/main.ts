/**
 * `npm run simulator`: the partner simulator as its own program, for manual runs and for tests or
 * benchmarks in other processes. A separate program, so it reads its own SIM_* variables.
 */
import { PartnerSimulator } from './partner-simulator';

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`Invalid configuration: ${name} must be an integer ≥ ${min}, got "${raw}"`);
    process.exit(1);
  }
  return n;
}

async function main(): Promise<void> {
  const port = intFromEnv('SIM_PORT', 4010, 0);
  const sim = new PartnerSimulator({
    rateLimit: intFromEnv('SIM_RATE_LIMIT', 30, 1),
    windowMs: intFromEnv('SIM_RATE_WINDOW_MS', 60_000, 1),
    // SIM_API_KEYS: several comma-separated keys, each with its own window.
    apiKey: (process.env.SIM_API_KEYS || process.env.SIM_API_KEY || 'demo-key')
      .split(',')
      .map((k) => k.trim()),
    seed: intFromEnv('SIM_SEED', 1, 0),
  });
  const url = await sim.start(port, process.env.SIM_HOST || '127.0.0.1');
  console.log(JSON.stringify({ msg: 'partner simulator listening', url }));
  const stop = (): void => {
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`Simulator failed to start: ${(err as Error).message}`);
  process.exit(1);
});
