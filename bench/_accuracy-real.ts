/**
 * Accuracy against the real service: the built dist/main.js on a fresh PostgreSQL database, the
 * partner simulator over HTTP with the change model, time compressed COMPRESSION times (crons,
 * the budget's window and the change rates alike), and a load generator that reads the slots API
 * and judges every answer against the simulator's truth at the instant of the read.
 *
 * 1. Catch-up: the service boots with a wide budget against a partner that does not change yet,
 *    until every product-date (today .. +59) is stored.
 * 2. Steady state: each copy's last sync is backdated by a seeded share of its horizon's target
 *    (as a running service's would be) and the partner's data of that product-date starts
 *    changing from that instant, so a copy "synced" then ages as a real one would. The service
 *    restarts with the compressed crons and budget; after a warm-up, reads are judged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { addDays, todayIn } from '../src/inventory/calendar';
import { buildSyncPolicy, targetSecondsForDay } from '../src/inventory/policy/sync-policy';
import type { WindowCrons } from '../src/inventory/schedule/windows';
import {
  AccuracyTally,
  judgeRead,
  popularityDecile,
  type JudgedSlot,
} from '../src/partner/simulator/accuracy-judge';
import { DEFAULT_CHANGE_MODEL, seededUniform } from '../src/partner/simulator/change-model';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import {
  DEFAULT_READ_DEMAND,
  readWeight,
  WeightedPicker,
} from '../src/partner/simulator/read-demand';
import type { PolicyResult } from './_accuracy-model';
import { createBenchDatabase } from './_seed-read-data';
import { median } from './_stats';

const ROOT = path.resolve(__dirname, '..', '..');
const KEY = 'bench-accuracy-key';
const SPAN = 60;

/**
 * 60×: a model minute is a real second. The design card's crons, compressed: quarter-hourly every
 * 15 s, four-hourly every 4 min, daily every 20 min (24 min has no even cron: the daily target is
 * 20 model hours here, not 24), extended every 3 h (7.5 model days, not 7).
 */
export const REAL_RUN = {
  compression: 60,
  crons: {
    quarterHourly: '*/15 * * * * *',
    fourHourly: '0 */4 * * * *',
    daily: '0 */20 * * * *',
    extended: '0 0 */3 * * *',
  } satisfies WindowCrons,
  /** The partner's window, compressed: 60 s ÷ 60. */
  windowMs: 1000,
  warmSeconds: 60,
  measureSeconds: 180,
  readsPerSecond: 40,
};

interface Proc {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function startService(env: Record<string, string>): Promise<Proc> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not start:\n${out.slice(-5000)}`));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 100_000) out = out.slice(-10_000);
      const m = /^(?=.*"msg":"listening").*"url":"(http:\/\/[^"]+)"/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1].replace('[::1]', '127.0.0.1'), exited });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then(() => reject(new Error(`the service exited:\n${out.slice(-5000)}`)));
  });
}

async function stop(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  const killer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  await p.exited;
  clearTimeout(killer);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RealResult {
  equivalent: string;
  result: PolicyResult;
  /** Reads that got no 200 (counted as not fresh). */
  failedReads: number;
  /** The partner's 429 answers in the measured phase. */
  partner429s: number;
  catchUpSeconds: number;
  /** The plan as status showed it every 5 s of the measured phase (how the rule ran). */
  plan: { samples: number; unranked: number; rankMsMedian: number; forcedMinutesMedian: number };
}

/**
 * One row: `products` on `keys` keys at `limit` calls per compressed window each (the partner's
 * 30 per 60 s, or fewer for an N-products-equivalent run with the same calls per product).
 */
export async function runRealService(
  products: number,
  keys: number,
  limit = 30,
): Promise<RealResult> {
  const db = await createBenchDatabase();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const apiKeys = Array.from({ length: keys }, (_, i) => `${KEY}-${i + 1}`);
  const ids = Array.from({ length: products }, (_, i) => i + 1).join(',');
  const common = {
    DATABASE_URL: db.url,
    PARTNER_API_KEYS: apiKeys.join(','),
    SYNC_PRODUCT_IDS: ids,
    SYNC_TIMEZONE: 'UTC',
  };
  let service: Proc | null = null;
  let vacuum: NodeJS.Timeout | undefined;
  const sims: PartnerSimulator[] = [];
  try {
    // 1. Catch-up with a wide budget; the partner's data does not change yet.
    const wide = new PartnerSimulator({
      rateLimit: 100_000,
      windowMs: 1000,
      apiKey: apiKeys,
      changes: { ratePerHour: 0 },
    });
    sims.push(wide);
    const started = Date.now();
    service = await startService({
      ...common,
      PARTNER_API_URL: await wide.start(),
      PARTNER_RATE_LIMIT: '100000',
      PARTNER_RATE_WINDOW_MS: '1000',
      PARTNER_MAX_CONCURRENCY: '8',
    });
    for (;;) {
      const { rows } = await pg.query<{ n: string }>(
        'SELECT count(*) AS n FROM product_date_syncs WHERE last_success_at IS NOT NULL',
      );
      if (Number(rows[0].n) >= products * SPAN) break;
      if (Date.now() - started > 15 * 60_000) throw new Error(`catch-up stuck at ${rows[0].n}`);
      await sleep(1000);
    }
    const catchUpSeconds = (Date.now() - started) / 1000;
    await stop(service);
    service = null;
    await wide.stop();

    // 2. Steady state: backdated copies, the partner changing from each copy's instant.
    const c = REAL_RUN.compression;
    const t = Date.now();
    const today = todayIn('UTC', new Date(t));
    const policy = buildSyncPolicy(REAL_RUN.crons, 'UTC', new Date(t));
    const u = seededUniform(4242);
    const starts = new Map<string, number>();
    const pids: number[] = [];
    const dates: string[] = [];
    const at: Date[] = [];
    for (let day = 0; day < SPAN; day++) {
      const date = addDays(today, day);
      const target = targetSecondsForDay(policy, day) * 1000;
      for (let p = 1; p <= products; p++) {
        const since = Math.round(t - u() * target);
        starts.set(`${p}:${date}`, since);
        pids.push(p);
        dates.push(date);
        at.push(new Date(since));
      }
    }
    await pg.query(
      `UPDATE product_date_syncs s SET last_success_at = x.at, last_attempt_at = x.at
         FROM unnest($1::int[], $2::date[], $3::timestamptz[]) AS x(p, d, at)
        WHERE s.product_id = x.p AND s.date = x.d`,
      [pids, dates, at],
    );
    await pg.query('VACUUM (ANALYZE)');
    const sim = new PartnerSimulator({
      rateLimit: limit,
      windowMs: REAL_RUN.windowMs,
      apiKey: apiKeys,
      changes: { ...DEFAULT_CHANGE_MODEL, ratePerHour: DEFAULT_CHANGE_MODEL.ratePerHour * c },
    });
    sim.setChangeStarts(starts);
    sims.push(sim);
    service = await startService({
      ...common,
      PARTNER_API_URL: await sim.start(),
      PARTNER_RATE_LIMIT: String(limit),
      PARTNER_RATE_WINDOW_MS: String(REAL_RUN.windowMs),
      SYNC_CRON_QUARTER_HOURLY: REAL_RUN.crons.quarterHourly,
      SYNC_CRON_FOUR_HOURLY: REAL_RUN.crons.fourHourly,
      SYNC_CRON_DAILY: REAL_RUN.crons.daily,
      SYNC_CRON_EXTENDED: REAL_RUN.crons.extended,
      // What the service learns, on the same compressed clock (its defaults ÷ the compression).
      CHANGE_RATE_HALF_LIFE_MS: String(Math.round((7 * 86_400_000) / c)),
      READ_DEMAND_HALF_LIFE_MS: String(Math.round((6 * 3_600_000) / c)),
      READ_DEMAND_FLUSH_MS: String(Math.max(100, Math.round(10_000 / c))),
      CHANGE_RATE_POOLS_REFRESH_MS: String(Math.max(1000, Math.round(300_000 / c))),
    });

    // This machine's PostgreSQL runs with autovacuum off (a production one has it on): at 60×
    // the sync's pace, dead rows would pile up 60× faster than any real day and slow every rank.
    // Vacuumed as autovacuum would, every 10 s.
    vacuum = setInterval(() => void pg.query('VACUUM (ANALYZE)').catch(() => undefined), 10_000);

    // Reads: Poisson arrivals, each to a product-date by read weight, judged at its instant.
    const weights = new Float64Array(SPAN * products);
    for (let d = 0; d < SPAN; d++)
      for (let p = 0; p < products; p++)
        weights[d * products + p] = readWeight(DEFAULT_READ_DEMAND, p + 1, d);
    const picker = new WeightedPicker(weights);
    const tally = new AccuracyTally();
    // Readers read from the start (the service learns its read demand from them); reads are
    // judged from the end of the warm-up.
    const warmFrom = Date.now();
    const measureFrom = warmFrom + REAL_RUN.warmSeconds * 1000;
    const measureTo = measureFrom + REAL_RUN.measureSeconds * 1000;
    let callsBefore = -1;
    let rejectedBefore = 0;
    const inFlight = new Set<Promise<void>>();
    let failedReads = 0;
    let next = warmFrom;
    const base = service.url;
    const plans: Array<{ rankMs: number | null; forcedMinutes: number } | null> = [];
    const samples: Promise<void>[] = [];
    const sampler = setInterval(() => {
      if (Date.now() < measureFrom) return;
      samples.push(
        fetch(`${base}/api/v1/experience/sync/status`)
          .then(
            (r) =>
              r.json() as Promise<{
                plan: { rankMs: number | null; forcedMinutes: number } | null;
              }>,
          )
          .then((st) => void plans.push(st.plan))
          .catch(() => undefined),
      );
    }, 5000);
    while (next < measureTo) {
      next += (-Math.log(1 - u()) / REAL_RUN.readsPerSecond) * 1000;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      if (inFlight.size >= 16) await Promise.race(inFlight);
      const i = picker.pick(u());
      const day = Math.floor(i / products);
      const product = (i % products) + 1;
      const date = addDays(today, day);
      if (callsBefore < 0 && next >= measureFrom) {
        const before = sim.stats();
        callsBefore = before.total;
        rejectedBefore = before.byStatus[429] ?? 0;
      }
      const judged = next >= measureFrom;
      const read = (async () => {
        const readAt = Date.now();
        const res = await fetch(`${base}/api/v1/experience/${product}/slots?date=${date}`);
        const decile = popularityDecile(product, products);
        if (!judged) {
          await res.arrayBuffer();
          return;
        }
        if (res.status !== 200) {
          await res.arrayBuffer();
          failedReads++;
          tally.add({ fresh: false, soldOutShownBookable: false }, day, decile);
          return;
        }
        const served = (await res.json()) as JudgedSlot[];
        tally.add(judgeRead(served, sim.truth(product, date, readAt)), day, decile);
      })();
      inFlight.add(read);
      void read.finally(() => inFlight.delete(read));
    }
    await Promise.all(inFlight);
    clearInterval(sampler);
    await Promise.allSettled(samples);
    const after = sim.stats();
    const calls = after.total - callsBefore;
    const partner429s = (after.byStatus[429] ?? 0) - rejectedBefore;
    const seconds = (Date.now() - measureFrom) / 1000;
    const allowed = (keys * limit * seconds * 1000) / REAL_RUN.windowMs;
    return {
      equivalent:
        limit === 30
          ? `${products} products`
          : `${Math.round((products * 30) / limit)} products: ${products} at ${limit} calls / window`,
      result: { summary: tally.summary(), budgetUsed: calls / allowed, calls },
      failedReads,
      partner429s,
      catchUpSeconds,
      plan: {
        samples: plans.length,
        unranked: plans.filter((p) => !p || p.rankMs === null).length,
        rankMsMedian: median(plans.flatMap((p) => (p?.rankMs != null ? [p.rankMs] : []))),
        forcedMinutesMedian: median(plans.flatMap((p) => (p ? [p.forcedMinutes] : []))),
      },
    };
  } finally {
    clearInterval(vacuum);
    if (service) await stop(service);
    for (const s of sims) await s.stop();
    await pg.end();
    await db.drop();
  }
}
