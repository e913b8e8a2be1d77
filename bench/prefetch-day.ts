/**
 * Idle-time prefetch experiment on the due-list model (sync-day's measured days and start dates):
 * baseline (off), prefetch with the tick's rule unchanged (A), and prefetch where a tick skips
 * dates fetched recently (B: age ÷ target at the tick below `tickSkipBelow`).
 *
 *   npm run bench -- prefetch-day [products x keys,…] [days] [variants]
 *   e.g. npm run bench -- prefetch-day 450x2,271x1 sun,wed,steady off,A0.5,B0.5/0.5
 */
import { SYNC_WINDOWS } from '../src/inventory/sync-window';
import { DAY, MEASURED_DAY, MODEL_RUN, simulateDueList, type DueListOptions } from './_sync-model';

const MEASURED = MEASURED_DAY;
const DAYS: Record<string, { label: string; start: Date; warmupMs: number }> = {
  sun: { label: 'Sunday', start: new Date(MEASURED - 7 * DAY), warmupMs: 7 * DAY },
  wed: { label: 'Wednesday', start: new Date(MEASURED - 7 * DAY), warmupMs: 10 * DAY },
  steady: { label: 'Sunday 5 wk on', start: new Date(MEASURED - 35 * DAY), warmupMs: 35 * DAY },
};

const cases = (process.argv[2] ?? '450x2,271x1,450x1,2x1').split(',').map((c) => {
  const [p, k] = c.split('x').map(Number);
  return { products: p, keys: k ?? 1 };
});
const days = (process.argv[3] ?? 'sun,wed,steady').split(',');
const variants = (process.argv[4] ?? 'off,A0.5,A0.75,B0.5/0.5,B0.75/0.5').split(',');

const parseVariant = (v: string): DueListOptions['prefetch'] => {
  if (v === 'off') return undefined;
  const [min, skip] = v.slice(1).split('/').map(Number);
  return v[0] === 'A' ? { minFraction: min } : { minFraction: min, tickSkipBelow: skip };
};

function fmtAge(seconds: number): string {
  if (seconds < 3600) return `${(seconds / 60).toFixed(0)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

console.log(
  '| products | keys | day | variant | calls/p/day (day) | calls/p/day (7 d) | prefetch/p/day | tick skips/p/day | 429s | budget | today p95 / max | +1..+6 max | +7..+29 max | +30..+59 max | wall |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { products, keys } of cases) {
  for (const d of days) {
    for (const v of variants) {
      const started = Date.now();
      const r = simulateDueList({
        ...MODEL_RUN,
        windows: SYNC_WINDOWS,
        products,
        keys,
        start: DAYS[d].start,
        warmupMs: DAYS[d].warmupMs,
        prefetch: parseVariant(v),
      });
      const wall = (Date.now() - started) / 1000;
      const a = r.settledAges;
      console.log(
        `| ${products} | ${keys} | ${DAYS[d].label} | ${v} | ${r.callsPerProductPerDay.toFixed(1)} | ${r.callsPerProductPerDayWeek.toFixed(1)} | ${(r.prefetchesMeasured / products).toFixed(1)} | ${(r.tickSkipsMeasured / products).toFixed(1)} | ${r.partner429s} | ${(r.utilization * 100).toFixed(1)} % | ${fmtAge(a.today.p95)} / ${fmtAge(a.today.max)} | ${fmtAge(a['days 1-6'].max)} | ${fmtAge(a['days 7-29'].max)} | ${fmtAge(a['days 30-59'].max)} | ${wall.toFixed(0)} s |`,
      );
      console.error(
        JSON.stringify({
          products,
          keys,
          day: d,
          v,
          wall,
          today: a.today,
          w: a['days 1-6'],
          m: a['days 7-29'],
          e: a['days 30-59'],
          cpd: r.callsPerProductPerDay,
          cpw: r.callsPerProductPerDayWeek,
          pf: r.prefetchesMeasured,
          skips: r.tickSkipsMeasured,
          r429: r.partner429s,
          pickUsPerTurn: (r.pickMs / r.turns) * 1000,
        }),
      );
    }
  }
}
