/**
 * Accuracy: the share of reads served fresh (every slot, seat count and price equal to the
 * partner's at that moment), judged against the simulator's change model, side by side:
 * - virtual: the due-list model running the service's value rule (learned and true rates) and the
 *   urgency rule it replaced (before: compareUrgency over the crons) against uniform, proportional-to-change-rate and the oracle (Azar et al.'s square-root
 *   allocation from the true rates), all at the same key budget, over a measured day;
 * - real: the built service (dist/, real PostgreSQL) against the simulator over HTTP with the
 *   change model, crons and change rates compressed by the same factor, and a load generator
 *   reading the slots API and judging each answer against /__sim/truth at that instant.
 *
 *   npm run bench -- accuracy [virtual|real|both] [virtual cases] [real cases] [sanity cases]
 *     [real warm/measure seconds]
 *   e.g. npm run bench -- accuracy both 2x1,100x1,271x1,450x1,900x1,450x2 100x1,450x1
 */
import { READ_HORIZONS, type AccuracySummary } from '../src/partner/simulator/accuracy-judge';
import {
  DEFAULT_CHANGE_MODEL,
  type ChangeModelParams,
} from '../src/partner/simulator/change-model';
import { DEFAULT_READ_DEMAND, type ReadDemandParams } from '../src/partner/simulator/read-demand';
import {
  buildWorld,
  judgeReads,
  oracle,
  proportional,
  scheduledSyncs,
  uniform,
  urgencyRuleSyncs,
  valuePolicySyncs,
  type PolicyResult,
} from './_accuracy-model';
import { runRealService, REAL_RUN } from './_accuracy-real';
import { DAY, MEASURED_DAY } from './_sync-model';

const mode = process.argv[2] ?? 'both';
const parseCases = (arg: string | undefined, fallback: string) =>
  (arg ?? fallback).split(',').map((c) => {
    const [shape, limit] = c.split('@');
    const [p, k] = shape.split('x').map(Number);
    return { products: p, keys: k ?? 1, limit: limit ? Number(limit) : 30 };
  });
const virtualCases = parseCases(process.argv[3], '2x1,100x1,271x1,450x1,900x1,450x2,150x1@10');
// 150 products at 10 calls per window: the calls per product of 450 at 30, a third of the catch-up.
const realCases = parseCases(process.argv[4], '100x1,150x1@10');
const sanityCases = parseCases(process.argv[5], '100x1,450x1');
// Optional "warm/measure" seconds of each real row (default REAL_RUN's).
if (process.argv[6]) {
  const [warm, measure] = process.argv[6].split('/').map(Number);
  REAL_RUN.warmSeconds = warm;
  REAL_RUN.measureSeconds = measure;
}

const pct = (x: number): string => (Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)} %`);
const points = (x: number): string =>
  Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;

interface Row {
  label: string;
  policy: string;
  r: PolicyResult;
  /** Fresh reads minus the oracle's (points), and the share of before → oracle closed. */
  vsOracle: number;
  gap: number;
}

const HEADER =
  '| products × keys | policy | fresh reads | fresh, top decile | sold out shown bookable | calls (budget used) | vs oracle (points) | oracle gap closed |\n|---|---|---|---|---|---|---|---|';
const line = (x: Row): string =>
  `| ${x.label} | ${x.policy} | ${pct(x.r.summary.fresh)} | ${pct(x.r.summary.freshTopDecile)} | ${pct(x.r.summary.soldOutShownBookable)} | ${x.r.calls} (${pct(x.r.budgetUsed)}) | ${points(x.vsOracle)} | ${pct(x.gap)} |`;
const horizonLine = (label: string, policy: string, s: AccuracySummary): string =>
  `| ${label} | ${policy} | ${READ_HORIZONS.map((h) => pct(s.freshByHorizon[h])).join(' | ')} | ${s.freshByDecile.map((d) => (Number.isNaN(d) ? '–' : (d * 100).toFixed(0))).join(' / ')} |`;

/** (F − F_before) ÷ (F_oracle − F_before): 0 = the urgency rule (before), 1 = the oracle. */
const gapClosed = (f: number, current: number, ora: number): number =>
  ora - current > 1e-9 ? (f - current) / (ora - current) : NaN;

const virtualByCase = new Map<string, { oracle: number }>();
const POLICIES = [
  'urgency rule (before)',
  'value rule, learned rates',
  'value rule, true rates',
  'uniform',
  'proportional to change',
  'oracle (√ allocation)',
];
const ORACLE = POLICIES.length - 1;
/** Issue 26's share of the gap to the oracle the learned value rule must close, per row. */
const GAP_TARGET: Record<string, number> = {
  '2 × 1': 0.8,
  '100 × 1': 0.8,
  '271 × 1': 0.8,
  '450 × 1': 0.7,
  '900 × 1': 0.6,
  '450 × 2': 0.6,
};
/** Self-checks: each prints yes or NO; any NO makes the run exit non-zero. */
const checks: string[] = [];
const check = (what: string, ok: boolean): void => {
  checks.push(`- ${what}: ${ok ? 'yes' : 'NO'}`);
  if (!ok) process.exitCode = 1;
};
const hours = (s: number): string =>
  s >= 2 * 86_400
    ? `${(s / 86_400).toFixed(2)} d`
    : s >= 3600
      ? `${(s / 3600).toFixed(2)} h`
      : `${(s / 60).toFixed(1)} min`;
const valueNotes: string[] = [];

/** The policies on one world: the urgency rule (before) first, the oracle last. */
const caseLabel = (products: number, keys: number, limit: number): string =>
  `${products} × ${keys}${limit === 30 ? '' : ` at ${limit}/60 s`}`;

function runCase(
  products: number,
  keys: number,
  limit: number,
  reads: ReadDemandParams,
  change: Omit<ChangeModelParams, 'startMs'> = DEFAULT_CHANGE_MODEL,
): Row[] {
  const started = Date.now();
  const w = buildWorld({
    products,
    keys,
    start: new Date(MEASURED_DAY - 7 * DAY),
    warmupMs: 7 * DAY,
    measureMs: DAY,
    change,
    reads,
    readsPerDay: READS_PER_DAY,
    dataSeed: 1,
    limit,
  });
  const learned = valuePolicySyncs(w, { rates: 'learned' });
  const truth = valuePolicySyncs(w, { rates: 'true' });
  const results = [
    judgeReads(w, urgencyRuleSyncs(w).syncs),
    judgeReads(w, learned.syncs),
    judgeReads(w, truth.syncs),
    judgeReads(w, scheduledSyncs(w, uniform)),
    judgeReads(w, scheduledSyncs(w, proportional)),
    judgeReads(w, scheduledSyncs(w, oracle)),
  ];
  const current = results[0].summary.fresh;
  const ora = results[ORACLE].summary.fresh;
  const label = caseLabel(products, keys, limit);
  if (reads === DEFAULT_READ_DEMAND) {
    for (const [name, run] of [
      ['learned', learned],
      ['true', truth],
    ] as const) {
      const m = run.model;
      const ranges = Object.keys(m.floors) as Array<keyof typeof m.floors>;
      valueNotes.push(
        `| ${label} | ${name} | ${m.partner429s} | ${m.neverSynced} | ${ranges.map((r) => `${hours(m.settledAges[r].max)} / ${hours(m.floors[r]!)}`).join(' | ')} | ${m.floorCallsMeasured} | ${m.spareCallsMeasured} |`,
      );
      check(`${label}, value rule (${name} rates): 0 429s`, m.partner429s === 0);
      check(
        `${label}, value rule (${name} rates): no product-date never synced`,
        m.neverSynced === 0,
      );
    }
    const gap = gapClosed(results[1].summary.fresh, current, ora);
    const target = GAP_TARGET[label];
    if (target !== undefined)
      check(
        `${label}: learned value rule closes ≥ ${target * 100} % of the gap to the oracle (${pct(gap)})`,
        gap >= target,
      );
    check(
      `${label}: learned within 5 points of true rates (${points(results[1].summary.fresh - results[2].summary.fresh)})`,
      results[1].summary.fresh >= results[2].summary.fresh - 0.05,
    );
    if (label === '450 × 1')
      check(
        `450 × 1: sold out shown bookable at most half of today's (${pct(results[1].summary.soldOutShownBookable)} vs ${pct(results[0].summary.soldOutShownBookable)})`,
        results[1].summary.soldOutShownBookable <= results[0].summary.soldOutShownBookable / 2,
      );
  }
  console.error(`virtual ${label}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return results.map((r, i) => ({
    label,
    policy: POLICIES[i],
    r,
    vsOracle: r.summary.fresh - ora,
    gap: gapClosed(r.summary.fresh, current, ora),
  }));
}

const READS_PER_DAY = 200_000;
const SANITY_RATE_PER_HOUR = 60;

function runVirtual(): void {
  console.log(
    `\n## Virtual time: a measured Sunday (${new Date(MEASURED_DAY).toISOString().slice(0, 10)}) after 7 days; change model ${JSON.stringify(DEFAULT_CHANGE_MODEL)}; reads ${JSON.stringify(DEFAULT_READ_DEMAND)}; ${READS_PER_DAY} reads judged; the key's budget: 30 calls / 60 s each\n`,
  );
  const rows: Row[] = [];
  for (const { products, keys, limit } of virtualCases) {
    const caseRows = runCase(products, keys, limit, DEFAULT_READ_DEMAND);
    virtualByCase.set(caseRows[0].label, { oracle: caseRows[ORACLE].r.summary.fresh });
    for (const row of caseRows) console.error(line(row));
    rows.push(...caseRows);
  }
  console.log(`${HEADER}\n${rows.map(line).join('\n')}`);
  console.log(
    `\nFresh reads per horizon and per popularity decile (1st … 10th, %):\n\n| products × keys | policy | ${READ_HORIZONS.join(' | ')} | deciles |\n|---|---|---|---|---|---|---|\n${rows.map((r) => horizonLine(r.label, r.policy, r.r.summary)).join('\n')}`,
  );
  // Cho & Garcia-Molina's setting: every product-date read alike, and more changes than the
  // budget can follow. There uniform must beat proportional (with reads that follow changes,
  // proportional is near the oracle instead, the identity ρ ∝ Δ when μ ∝ Δ).
  const flat = { popularitySkew: 0, halfLifeDays: 1e9 };
  const fast = { ...DEFAULT_CHANGE_MODEL, ratePerHour: SANITY_RATE_PER_HOUR };
  const sanity = sanityCases.flatMap(({ products, keys, limit }) =>
    runCase(products, keys, limit, flat, fast),
  );
  console.log(
    `\nSanity (Cho & Garcia-Molina): every product-date read alike, ratePerHour ${SANITY_RATE_PER_HOUR}\n\n${HEADER}\n${sanity.map(line).join('\n')}`,
  );
  console.log(
    `\nThe value rule's floors: max age per horizon in the measured day (hand-overs left out) / the floor; calls of the measured day that went first for the floor, and not-due calls\n\n| products × keys | rates | 429s | never synced | today | +1..+6 | +7..+29 | +30..+59 | floor-first calls | not-due calls |\n|---|---|---|---|---|---|---|---|---|---|\n${valueNotes.join('\n')}`,
  );
  console.log(`\nSelf-checks:\n${checks.join('\n')}`);
}

async function runReal(): Promise<void> {
  console.log(
    `\n## Real service: time ×${REAL_RUN.compression} (crons ${JSON.stringify(REAL_RUN.crons)}, the partner's window ${REAL_RUN.windowMs} ms, change rates ×${REAL_RUN.compression}); ${REAL_RUN.warmSeconds} s warm-up, ${REAL_RUN.measureSeconds} s measured (${(REAL_RUN.measureSeconds * REAL_RUN.compression) / 3600} model hours), ${REAL_RUN.readsPerSecond} reads/s; "vs oracle": the virtual oracle of the same row\n`,
  );
  const rows: Row[] = [];
  const horizons: string[] = [];
  for (const { products, keys, limit } of realCases) {
    const r = await runRealService(products, keys, limit);
    const label = `${caseLabel(products, keys, limit)} (${r.equivalent})`;
    const ref = virtualByCase.get(caseLabel(products, keys, limit));
    console.error(
      `real ${label}: catch-up ${r.catchUpSeconds.toFixed(0)} s, ${r.failedReads} reads without a 200, ${r.partner429s} partner 429s; ` +
        `plan in ${r.plan.samples} status samples: ${r.plan.unranked} not ranked, rank ${r.plan.rankMsMedian} ms, ` +
        `floor forced ${r.plan.forcedMinutesMedian} min (medians)`,
    );
    const row = {
      label,
      policy: 'service (real)',
      r: r.result,
      vsOracle: ref ? r.result.summary.fresh - ref.oracle : NaN,
      gap: 0,
    };
    rows.push(row);
    horizons.push(horizonLine(label, 'service (real)', r.result.summary));
    console.log(line(row));
  }
  console.log(`\n${HEADER}\n${rows.map(line).join('\n')}`);
  console.log(
    `\n| products × keys | policy | ${READ_HORIZONS.join(' | ')} | deciles |\n|---|---|---|---|---|---|---|\n${horizons.join('\n')}`,
  );
}

async function main(): Promise<void> {
  if (mode === 'virtual' || mode === 'both') runVirtual();
  if (mode === 'real' || mode === 'both') await runReal();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
