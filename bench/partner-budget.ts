/**
 * Partner budget benchmark: how much of the partner's rate limit the service uses, and how many
 * 429s it causes, against the simulator on a compressed window; ours and the seed's limiter side
 * by side in the same run; then the recovery after a foreign burst (ours only).
 * Usage: npm run bench -- partner-budget [--windows 10] [--latency 40] [--only recovery]
 */
import { Logger } from '@nestjs/common';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { startPartnerHarness, type PartnerHarness } from '../test/support/partner-harness';
import { PartnerClient } from '../src/partner/partner-client';
import { SeedLimiter } from './_seed-limiter';

const LIMIT = 30;
const WINDOW_MS = 6000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const WINDOWS = arg('windows', 10);
const LATENCY_MS = arg('latency', 40);

interface Result {
  limiter: string;
  scenario: string;
  jobs: number;
  completed: number;
  failed: number;
  accepted: number;
  rateLimited: number;
  busiestWindow: number;
  makespanS: number;
  spanS: number;
  utilization: number;
  sustained: number;
  per429Period: number;
}

/** A product-date list long enough for the backlog (distinct keys: no dedupe help). */
function workload(n: number): Array<[number, string]> {
  return Array.from({ length: n }, (_, i) => {
    const d = new Date(Date.UTC(2025, 3, 1) + (i % 60) * 86_400_000).toISOString().slice(0, 10);
    return [100 + Math.floor(i / 60), d];
  });
}

/** A foreign consumer of the same key, spreading `perWindow` calls evenly over every window. */
function foreignConsumer(sim: PartnerSimulator, perWindow: number): () => void {
  if (perWindow <= 0) return () => undefined;
  const t = setInterval(() => sim.spendBudget(1), WINDOW_MS / perWindow);
  return () => clearInterval(t);
}

async function run(
  name: string,
  scenario: string,
  foreignPerWindow: number,
  jobs: number,
  schedule: (h: PartnerHarness, client: PartnerClient, pd: [number, string]) => Promise<unknown>,
  stop: (h: PartnerHarness) => Promise<void>,
): Promise<Result> {
  const h = await startPartnerHarness({
    sim: { rateLimit: LIMIT, windowMs: WINDOW_MS, apiKey: `bench-${name}-key` },
    env: { PARTNER_TIMEOUT_MS: '5000' },
  });
  h.simulator.setFaults({ latencyMs: LATENCY_MS });
  const stopForeign = foreignConsumer(h.simulator, foreignPerWindow);
  // The foreign consumer is already steady when our backlog arrives.
  if (foreignPerWindow > 0) await new Promise((r) => setTimeout(r, WINDOW_MS));
  const started = Date.now();
  // The backlog needs WINDOWS windows of budget; whatever is not done 2–3 windows later never will be.
  const deadline = started + (WINDOWS + (foreignPerWindow > 0 ? 3 : 2)) * WINDOW_MS;
  let completed = 0;
  let failed = 0;
  const all = Promise.allSettled(
    workload(jobs).map((pd) =>
      schedule(h, h.client, pd).then(
        () => completed++,
        () => failed++,
      ),
    ),
  );
  const progress = setInterval(() => {
    const st = h.simulator.stats();
    console.log(
      `  … ${name} / ${scenario}: ${completed} done, ${failed} failed, partner saw ${st.total} (429: ${st.byStatus['429'] ?? 0})`,
    );
  }, 15_000);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((r) => (timer = setTimeout(r, deadline - Date.now())))]);
  clearTimeout(timer);
  clearInterval(progress);
  const makespanMs = Date.now() - started;
  stopForeign();
  await Promise.race([stop(h), new Promise((r) => setTimeout(r, 10_000).unref())]);
  const s = h.simulator.stats();
  await h.simulator.stop();
  const accepted = s.byStatus['200'] ?? 0;
  const rateLimited = s.byStatus['429'] ?? 0;
  const spanMs = (s.lastCountedAt ?? 0) - (s.firstCountedAt ?? 0);
  const available = LIMIT - foreignPerWindow;
  // The most calls any client could have had accepted between our first and last request.
  const allowed = available * (Math.floor(spanMs / WINDOW_MS) + 1);
  // Stricter and continuous: calls after the first window's worth, per the budget's steady rate.
  const sustained = (accepted - available) / ((available * spanMs) / WINDOW_MS);
  console.log(`  ${name} / ${scenario}: done in ${Math.round(makespanMs / 1000)} s`);
  return {
    limiter: name,
    scenario,
    jobs,
    completed,
    failed,
    accepted,
    rateLimited,
    busiestWindow: s.busiestWindow,
    makespanS: Math.round(makespanMs / 100) / 10,
    spanS: Math.round(spanMs / 100) / 10,
    utilization: Math.round((accepted / allowed) * 1000) / 10,
    sustained: Math.round(sustained * 1000) / 10,
    per429Period: Math.round((rateLimited / Math.max(1, spanMs / WINDOW_MS)) * 100) / 100,
  };
}

const ours = (h: PartnerHarness, _c: PartnerClient, [p, d]: [number, string]) =>
  h.gateway.fetchInventory(p, d, 'later');

function seed(): {
  schedule: (h: PartnerHarness, c: PartnerClient, pd: [number, string]) => Promise<unknown>;
  stop: () => Promise<void>;
} {
  const limiter = new SeedLimiter(LIMIT, WINDOW_MS);
  return {
    schedule: (h, c, [p, d]) => limiter.schedule(() => c.fetchInventory(p, d, h.keys[0])),
    stop: () => limiter.stop(),
  };
}

interface RecoveryResult {
  burstPerWindow: number;
  burstWindows: number;
  rateLimitedDuringBurst: number;
  rateLimitedAfterBurst: number;
  /** Our accepted calls in the 1st / 2nd window after the burst ended, in % of the limit. */
  window1: number;
  window2: number;
  window3: number;
}

/**
 * A foreign consumer of the same key takes `burstPerWindow` of every window for `burstWindows`
 * windows while our backlog runs, then stops: how much of the budget do we get back, and when?
 */
async function recovery(burstPerWindow: number, burstWindows: number): Promise<RecoveryResult> {
  const h = await startPartnerHarness({
    sim: { rateLimit: LIMIT, windowMs: WINDOW_MS, apiKey: 'bench-recovery-key' },
    env: { PARTNER_TIMEOUT_MS: '5000' },
  });
  h.simulator.setFaults({ latencyMs: LATENCY_MS });
  const answered: number[] = [];
  // More work than the key can do in the whole run: we always want the budget.
  const jobs = workload(LIMIT * (burstWindows + 6)).map(([p, d]) =>
    h.gateway.fetchInventory(p, d, 'later').then(
      () => answered.push(Date.now()),
      () => undefined,
    ),
  );
  // Our backlog has the key to itself for one window first (it leaves the slow start).
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const stopForeign = foreignConsumer(h.simulator, burstPerWindow);
  await new Promise((r) => setTimeout(r, burstWindows * WINDOW_MS));
  stopForeign();
  const endedAt = Date.now();
  const limitedAtEnd = h.simulator.stats().byStatus['429'] ?? 0;
  await new Promise((r) => setTimeout(r, 3 * WINDOW_MS + 200));
  const limitedAfter = (h.simulator.stats().byStatus['429'] ?? 0) - limitedAtEnd;
  await h.limiter.drain(5000);
  await Promise.allSettled(jobs);
  await h.simulator.stop();
  const share = (from: number) =>
    Math.round((answered.filter((t) => t >= from && t < from + WINDOW_MS).length / LIMIT) * 1000) /
    10;
  return {
    burstPerWindow,
    burstWindows,
    rateLimitedDuringBurst: limitedAtEnd,
    rateLimitedAfterBurst: limitedAfter,
    window1: share(endedAt),
    window2: share(endedAt + WINDOW_MS),
    window3: share(endedAt + 2 * WINDOW_MS),
  };
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  console.log(
    `partner-budget: limit ${LIMIT} per ${WINDOW_MS} ms, backlog ${WINDOWS} windows, partner latency ${LATENCY_MS} ms`,
  );
  const recoveryRows = await Promise.all([recovery(25, 3), recovery(LIMIT, 3)]);
  console.log('recovery after a foreign burst (our accepted calls per window, % of the limit):');
  console.table(recoveryRows);
  console.log(JSON.stringify({ recovery: recoveryRows }));
  if (process.argv.includes('--only')) return;
  const seedA = seed();
  const alone = await Promise.all([
    run('ours', 'key to ourselves', 0, LIMIT * WINDOWS, ours, (h) =>
      h.limiter.drain(5000).then(() => undefined),
    ),
    run('seed', 'key to ourselves', 0, LIMIT * WINDOWS, seedA.schedule, seedA.stop),
  ]);
  const seedB = seed();
  const shared = await Promise.all([
    run('ours', 'foreign takes half', LIMIT / 2, (LIMIT / 2) * WINDOWS, ours, (h) =>
      h.limiter.drain(5000).then(() => undefined),
    ),
    run('seed', 'foreign takes half', LIMIT / 2, (LIMIT / 2) * WINDOWS, seedB.schedule, seedB.stop),
  ]);
  const rows = [...alone, ...shared];
  console.table(rows);
  console.log(JSON.stringify({ limit: LIMIT, windowMs: WINDOW_MS, latencyMs: LATENCY_MS, rows }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
