/**
 * Partner budget benchmark: how much of the partner's rate limit each limiter gets, and how many
 * 429s it causes, measured by the partner simulator (strict sliding window per key) on a
 * compressed window. Side by side in one run, each against its own simulator: the Bottleneck-paced
 * RateLimiterService (driven as the dispatcher drives it), the service's own queue before it
 * (bench/_own-queue-limiter.ts) and the seed's Bottleneck setup (bench/_seed-limiter.ts); then
 * two keys vs one, and the recovery after a foreign burst (ours only).
 * Usage: npm run bench -- partner-budget [--window 6000] [--windows 10] [--latency 40]
 *        [--only budget|keys|recovery] [--limiters ours,own-queue,seed]
 * Real scale: npm run bench -- partner-budget --window 60000 --windows 5 --only budget
 */
import { Logger } from '@nestjs/common';
import { NotAttemptedError } from '../src/common/domain-error';
import { LimiterShutdownError } from '../src/core/rate-limiter/rate-limiter.errors';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { startPartnerHarness, type PartnerHarness } from '../test/support/partner-harness';
import { OwnQueueLimiter } from './_own-queue-limiter';
import { SeedLimiter } from './_seed-limiter';

const LIMIT = 30;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
function textArg(name: string): string | null {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : null;
}

const WINDOW_MS = arg('window', 6000);
const WINDOWS = arg('windows', 10);
const LATENCY_MS = arg('latency', 40);
const ONLY = textArg('only');
const LIMITERS = (textArg('limiters') ?? 'ours,own-queue,seed').split(',');

interface Result {
  limiter: string;
  scenario: string;
  keys: number;
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
  /**
   * 429s per reset period as the partner defines it: a 429 opens a period that lasts until the
   * reset its body announced; a 429 that comes before that reset falls in the same period.
   * The most in any period, and the periods.
   */
  maxPerResetPeriod: number;
  resetPeriods: number;
  /** Accepted calls per second after the first window's worth. */
  rate: number;
  /**
   * Steady state: accepted calls per second from the end of the 2nd window to the last call, in %
   * of the budget's rate (a start-up burst into an idle window and the slow start excluded).
   */
  steady: number;
}

/** Groups 429s into the reset periods they announced; see Result.maxPerResetPeriod. */
function resetPeriods(events: ReadonlyArray<{ at: number; reset: number }>): {
  periods: number;
  max: number;
} {
  let periods = 0;
  let max = 0;
  let until = -Infinity;
  let inPeriod = 0;
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.at < until) {
      inPeriod++;
    } else {
      periods++;
      inPeriod = 1;
      until = e.reset;
    }
    max = Math.max(max, inPeriod);
  }
  return { periods, max };
}

/** Distinct product-dates (no dedupe help). */
function workload(n: number): Array<[number, string]> {
  return Array.from({ length: n }, (_, i) => {
    const d = new Date(Date.UTC(2025, 3, 1) + (i % 60) * 86_400_000).toISOString().slice(0, 10);
    return [100 + Math.floor(i / 60), d];
  });
}

/** A foreign consumer of the first key, spreading `perWindow` calls evenly over every window. */
function foreignConsumer(sim: PartnerSimulator, perWindow: number): () => void {
  if (perWindow <= 0) return () => undefined;
  const t = setInterval(() => sim.spendBudget(1, 0), WINDOW_MS / perWindow);
  return () => clearInterval(t);
}

type Driver = {
  /** Works through every product-date; resolves with how many completed and failed. */
  run(
    h: PartnerHarness,
    pds: Array<[number, string]>,
  ): Promise<{ completed: number; failed: number }>;
  stop(h: PartnerHarness): Promise<void>;
};

/**
 * RateLimiterService as the dispatcher drives it: at most capacity() product-dates handed over,
 * a handed-back one (429, rejected key) goes back to the front of the list, still due.
 */
const ours: Driver = {
  run: (h, pds) =>
    new Promise((resolve) => {
      const todo = [...pds];
      let inFlight = 0;
      let completed = 0;
      let failed = 0;
      const pump = (): void => {
        while (todo.length > 0 && h.limiter.capacity() > 0) {
          const [p, d] = todo.shift()!;
          inFlight++;
          h.gateway
            .fetchInventory(p, d, 'later')
            .then(
              () => completed++,
              (err: unknown) => {
                // Handed back: still due, it takes a later turn (a stopped limiter takes none).
                if (err instanceof NotAttemptedError && !(err instanceof LimiterShutdownError)) {
                  todo.unshift([p, d]);
                } else failed++;
              },
            )
            .finally(() => {
              inFlight--;
              if (todo.length === 0 && inFlight === 0) {
                clearInterval(poll);
                resolve({ completed, failed });
              }
              pump();
            });
        }
      };
      h.limiter.observe({ keysChanged: pump });
      // The dispatcher's own poll, for turns no event announces.
      const poll = setInterval(pump, 1000);
      pump();
    }),
  stop: (h) => h.limiter.drain(5000).then(() => undefined),
};

/** Every job handed over at once, as the old queue was fed; it retried 429s inside. */
function ownQueue(): Driver {
  let q: OwnQueueLimiter | null = null;
  return {
    run: async (h, pds) => {
      q = new OwnQueueLimiter(h.config, { recordPartnerCall: () => undefined });
      let completed = 0;
      let failed = 0;
      await Promise.allSettled(
        pds.map(([p, d]) =>
          q!
            .schedule({
              key: `${p}:${d}`,
              priority: 'later',
              run: () => h.client.fetchInventory(p, d, h.keys[0]),
            })
            .then(
              () => completed++,
              () => failed++,
            ),
        ),
      );
      return { completed, failed };
    },
    stop: async () => {
      await q?.drain(5000);
    },
  };
}

function seed(): Driver {
  const limiter = new SeedLimiter(LIMIT, WINDOW_MS);
  return {
    run: async (h, pds) => {
      let completed = 0;
      let failed = 0;
      await Promise.allSettled(
        pds.map(([p, d]) =>
          limiter
            .schedule(() => h.client.fetchInventory(p, d, h.keys[0]))
            .then(
              () => completed++,
              () => failed++,
            ),
        ),
      );
      return { completed, failed };
    },
    stop: () => limiter.stop(),
  };
}

const DRIVERS: Record<string, () => Driver> = {
  ours: () => ours,
  'own-queue': ownQueue,
  seed,
};

async function run(
  name: string,
  scenario: string,
  keys: number,
  foreignPerWindow: number,
  jobs: number,
  driver: Driver,
): Promise<Result> {
  const apiKeys = Array.from({ length: keys }, (_, i) => `bench-${name}-${scenario}-key-${i + 1}`);
  const h = await startPartnerHarness({
    sim: { rateLimit: LIMIT, windowMs: WINDOW_MS, apiKey: apiKeys },
    env: { PARTNER_TIMEOUT_MS: '5000' },
  });
  h.simulator.setFaults({ latencyMs: LATENCY_MS });
  const stopForeign = foreignConsumer(h.simulator, foreignPerWindow);
  // The foreign consumer is already steady when our backlog arrives.
  if (foreignPerWindow > 0) await new Promise((r) => setTimeout(r, WINDOW_MS));
  const started = Date.now();
  // The backlog needs WINDOWS windows of budget; whatever is not done 2–3 windows later never will be.
  const deadline = started + (WINDOWS + (foreignPerWindow > 0 ? 3 : 2)) * WINDOW_MS;
  let counts = { completed: 0, failed: 0 };
  let mark: { at: number; accepted: number } | null = null;
  const marker = setTimeout(() => {
    mark = { at: Date.now(), accepted: h.simulator.stats().byStatus['200'] ?? 0 };
  }, 2 * WINDOW_MS);
  const all = driver.run(h, workload(jobs)).then((c) => (counts = c));
  const progress = setInterval(() => {
    const st = h.simulator.stats();
    console.log(
      `  … ${name} / ${scenario}: partner saw ${st.total} (200: ${st.byStatus['200'] ?? 0}, 429: ${st.byStatus['429'] ?? 0})`,
    );
  }, 30_000);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((r) => (timer = setTimeout(r, deadline - Date.now())))]);
  clearTimeout(timer);
  clearTimeout(marker);
  clearInterval(progress);
  const makespanMs = Date.now() - started;
  stopForeign();
  await Promise.race([driver.stop(h), new Promise((r) => setTimeout(r, 10_000).unref())]);
  const s = h.simulator.stats();
  await h.simulator.stop();
  const accepted = s.byStatus['200'] ?? 0;
  const rateLimited = s.byStatus['429'] ?? 0;
  const byReset = s.keys.map((k) => resetPeriods(k.rateLimited));
  const spanMs = (s.lastCountedAt ?? 0) - (s.firstCountedAt ?? 0);
  const available = LIMIT * keys - foreignPerWindow;
  // The most calls any client could have had accepted between our first and last request.
  const allowed = available * (Math.floor(spanMs / WINDOW_MS) + 1);
  // Stricter and continuous: calls after the first window's worth, per the budget's steady rate.
  const sustained = (accepted - available) / ((available * spanMs) / WINDOW_MS);
  const steadyFrom = mark as { at: number; accepted: number } | null;
  const steady = steadyFrom
    ? (accepted - steadyFrom.accepted) /
      ((available * Math.max(1, (s.lastCountedAt ?? 0) - steadyFrom.at)) / WINDOW_MS)
    : 0;
  console.log(`  ${name} / ${scenario}: done in ${Math.round(makespanMs / 1000)} s`);
  return {
    limiter: name,
    scenario,
    keys,
    jobs,
    completed: counts.completed,
    failed: counts.failed,
    accepted,
    rateLimited,
    busiestWindow: s.busiestWindow,
    makespanS: Math.round(makespanMs / 100) / 10,
    spanS: Math.round(spanMs / 100) / 10,
    utilization: Math.round((accepted / allowed) * 1000) / 10,
    sustained: Math.round(sustained * 1000) / 10,
    per429Period: Math.round((rateLimited / Math.max(1, spanMs / WINDOW_MS)) * 100) / 100,
    maxPerResetPeriod: Math.max(0, ...byReset.map((p) => p.max)),
    resetPeriods: byReset.reduce((n, p) => n + p.periods, 0),
    rate: Math.round(((accepted - available) / Math.max(1, spanMs / 1000)) * 1000) / 1000,
    steady: Math.round(steady * 1000) / 10,
  };
}

interface RecoveryResult {
  burstPerWindow: number;
  burstWindows: number;
  rateLimitedDuringBurst: number;
  rateLimitedAfterBurst: number;
  /** Our accepted calls in the 1st / 2nd / 3rd window after the burst ended, in % of the limit. */
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
  const observer = {
    partnerCall: (_k: unknown, outcome: string) => outcome === 'ok' && answered.push(Date.now()),
  };
  h.limiter.observe(observer);
  // More work than the key can do in the whole run: we always want the budget.
  const work = ours.run(h, workload(LIMIT * (burstWindows + 6)));
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
  await Promise.race([work, new Promise((r) => setTimeout(r, 1000))]);
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
    `partner-budget: limit ${LIMIT} per ${WINDOW_MS} ms per key, backlog ${WINDOWS} windows, partner latency ${LATENCY_MS} ms`,
  );
  const rows: Result[] = [];
  if (!ONLY || ONLY === 'budget') {
    rows.push(
      ...(await Promise.all(
        LIMITERS.map((l) => run(l, 'key to ourselves', 1, 0, LIMIT * WINDOWS, DRIVERS[l]())),
      )),
    );
    if (WINDOW_MS <= 10_000) {
      rows.push(
        ...(await Promise.all(
          LIMITERS.map((l) =>
            run(l, 'foreign takes half', 1, LIMIT / 2, (LIMIT / 2) * WINDOWS, DRIVERS[l]()),
          ),
        )),
      );
    }
  }
  if (!ONLY || ONLY === 'keys') {
    const [one, two] = await Promise.all([
      run('ours', 'one key', 1, 0, LIMIT * WINDOWS, ours),
      run('ours', 'two keys', 2, 0, 2 * LIMIT * WINDOWS, ours),
    ]);
    rows.push(one, two);
    console.log(
      `two keys vs one key: ${Math.round((two.rate / one.rate) * 1000) / 10} % of one key's sustained rate`,
    );
  }
  if (rows.length > 0) {
    console.table(rows);
    console.log(JSON.stringify({ limit: LIMIT, windowMs: WINDOW_MS, latencyMs: LATENCY_MS, rows }));
  }
  if (!ONLY || ONLY === 'recovery') {
    const recoveryRows = await Promise.all([recovery(25, 3), recovery(LIMIT, 3)]);
    console.log('recovery after a foreign burst (our accepted calls per window, % of the limit):');
    console.table(recoveryRows);
    console.log(JSON.stringify({ recovery: recoveryRows }));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
