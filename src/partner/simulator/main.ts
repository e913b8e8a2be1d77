/**
 * `npm run simulator`: the partner simulator as its own program, for manual runs and for tests or
 * benchmarks in other processes. A separate program, so it reads its own SIM_* variables.
 */
import { DEFAULT_CHANGE_MODEL, type ChangeModelParams } from './change-model';
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

function numberFromEnv(name: string, fallback: number, min: number, above = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (above && n === min)) {
    console.error(
      `Invalid configuration: ${name} must be a number ${above ? '>' : '≥'} ${min}, got "${raw}"`,
    );
    process.exit(1);
  }
  return n;
}

/** SIM_CHANGES=1 turns the change model on; the other SIM_CHANGE_* tune it. */
function changesFromEnv(): Partial<ChangeModelParams> | undefined {
  const on = process.env.SIM_CHANGES ?? '';
  if (!['', '0', '1', 'true', 'false'].includes(on)) {
    console.error(`Invalid configuration: SIM_CHANGES must be 1 or 0, got "${on}"`);
    process.exit(1);
  }
  if (on !== '1' && on !== 'true') return undefined;
  const d = DEFAULT_CHANGE_MODEL;
  const params = {
    ratePerHour: numberFromEnv('SIM_CHANGE_RATE_PER_HOUR', d.ratePerHour, 0),
    popularitySkew: numberFromEnv('SIM_CHANGE_POPULARITY_SKEW', d.popularitySkew, 0),
    halfLifeDays: numberFromEnv('SIM_CHANGE_HALF_LIFE_DAYS', d.halfLifeDays, 0, true),
    saleShare: numberFromEnv('SIM_CHANGE_SALE_SHARE', d.saleShare, 0),
    cancelShare: numberFromEnv('SIM_CHANGE_CANCEL_SHARE', d.cancelShare, 0),
    seats: intFromEnv('SIM_CHANGE_SEATS', d.seats, 1),
  };
  if (params.saleShare + params.cancelShare > 1) {
    console.error(
      'Invalid configuration: SIM_CHANGE_SALE_SHARE + SIM_CHANGE_CANCEL_SHARE must be ≤ 1',
    );
    process.exit(1);
  }
  return params;
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
    changes: changesFromEnv(),
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
