/**
 * 24 hours of syncing in virtual time (no real waiting): partner calls per product per day, 429s,
 * budget use and data age per range of dates, for 2, 278 and 450 products, with the service's
 * policy and the seed's side by side. Deterministic: the same arguments give the same numbers.
 *
 *   npm run bench -- sync-day [products,…]      e.g. npm run bench -- sync-day 2,278,450
 */
import { SYNC_WINDOWS } from '../src/inventory/sync-window';
import { AGE_RANGES, simulateDay, type ModelResult, type Policy } from './_sync-model';

const CRONS = {
  daily: '0 0 * * *',
  fourHourly: '0 */4 * * *',
  quarterHourly: '*/15 * * * *',
  extended: '0 1 * * 0',
};
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const counts = (process.argv[2] ?? '2,278,450').split(',').map(Number);

function fmtAge(seconds: number): string {
  if (seconds < 3600) return `${(seconds / 60).toFixed(0)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

function run(products: number, policy: Policy, withExtended: boolean): ModelResult {
  return simulateDay({
    products,
    policy,
    crons: CRONS,
    // The seed had three windows; the extended window (days 30..59) is the service's addition.
    windows: withExtended ? SYNC_WINDOWS : SYNC_WINDOWS.filter((w) => w !== 'extended'),
    timeZone: 'UTC',
    limit: 30,
    windowMs: 60_000,
    latencyMs: 300,
    concurrency: 2,
    // A Sunday: the weekly extended window fires at 01:00 of the measured day.
    start: new Date('2025-04-05T00:00:00Z'),
    warmupMs: DAY,
    measureMs: DAY,
    sampleEveryMs: 15 * 60_000,
  });
}

const rows: string[] = [];
rows.push(
  '| products | policy | new jobs/product/day | calls made/product/day | 429s | busiest 60 s | budget used | skipped runs | queue at end | today p50/p95/max | days 1-6 p50/p95/max | days 7-29 p50/p95/max | days 30-59 p50/p95/max |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
);
for (const products of counts) {
  for (const [label, policy, ext] of [
    ['service (3 windows)', 'service', false],
    ['service (+ extended)', 'service', true],
    ['seed', 'seed', false],
  ] as const) {
    const started = Date.now();
    const r = run(products, policy, ext);
    const age = (k: (typeof AGE_RANGES)[number]): string =>
      `${fmtAge(r.ages[k].p50)} / ${fmtAge(r.ages[k].p95)} / ${fmtAge(r.ages[k].max)}`;
    rows.push(
      `| ${products} | ${label} | ${r.wantedPerProductPerDay.toFixed(1)} | ${r.callsPerProductPerDay.toFixed(1)} | ${r.partner429s} | ${r.busiestWindow} | ${(r.utilization * 100).toFixed(1)} % | ${r.skippedRuns} | ${r.endQueue} | ${age('today')} | ${age('days 1-6')} | ${age('days 7-29')} | ${ext ? age('days 30-59') : 'not synced'} |`,
    );
    console.error(`${products} ${label}: simulated in ${Date.now() - started} ms`);
  }
}
console.log(rows.join('\n'));
