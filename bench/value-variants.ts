/**
 * The value rule's variants on one virtual accuracy row, side by side with the urgency rule (before) and
 * the oracle (bench/_accuracy-model.ts): rates true or learned, the value's form, the budget share,
 * the floor within capacity, a cold start one day before the measured day.
 *
 *   npm run bench -- value-variants 450x1 true,learned,learned:stale-rate,learned:gain:::cold
 *   (each variant: rates:form:budgetShare:floorWithinCapacity(number|margin):cold:floorPace:floorOrder:never-first)
 */
import { DEFAULT_CHANGE_MODEL } from '../src/partner/simulator/change-model';
import { DEFAULT_READ_DEMAND } from '../src/partner/simulator/read-demand';
import {
  buildWorld,
  judgeReads,
  oracle,
  scheduledSyncs,
  urgencyRuleSyncs,
  valuePolicySyncs,
  type ValuePolicyOptions,
} from './_accuracy-model';
import { DAY, MEASURED_DAY } from './_sync-model';

const [shape, variants] = [process.argv[2] ?? '450x1', process.argv[3] ?? 'true,learned'];
const [products, keys] = shape.split('x').map(Number);
let t = Date.now();
const w = buildWorld({
  products,
  keys,
  start: new Date(MEASURED_DAY - 7 * DAY),
  warmupMs: 7 * DAY,
  measureMs: DAY,
  change: DEFAULT_CHANGE_MODEL,
  reads: DEFAULT_READ_DEMAND,
  readsPerDay: 200_000,
  dataSeed: 1,
});
console.log('world', (Date.now() - t) / 1000);
const fmt = (x: number) => (x * 100).toFixed(1);
t = Date.now();
const cur = judgeReads(w, urgencyRuleSyncs(w).syncs).summary;
const ora = judgeReads(w, scheduledSyncs(w, oracle)).summary;
console.log(
  `urgency rule (before) ${fmt(cur.fresh)} top ${fmt(cur.freshTopDecile)} sobb ${fmt(cur.soldOutShownBookable)} | oracle ${fmt(ora.fresh)}  (${(Date.now() - t) / 1000}s)`,
);
for (const v of variants.split(',')) {
  const [rates, form, share, within, cold, pace, order, never] = v.split(':');
  const opts: ValuePolicyOptions = {
    rates: rates as 'true' | 'learned',
    form: (form || 'gain') as 'gain',
    budgetShare: share ? Number(share) : undefined,
    floorWithinCapacity: within === 'margin' ? 'margin' : within ? Number(within) : undefined,
    floorPace: pace ? Number(pace) : undefined,
    floorOrder: order === 'deadline' ? 'deadline' : undefined,
    neverFirst: never === 'never-first',
    learnFromMs: cold ? w.measureFrom - DAY : undefined,
  };
  t = Date.now();
  const r = valuePolicySyncs(w, opts);
  const j = judgeReads(w, r.syncs);
  const s = j.summary;
  const m = r.model;
  const maxes = Object.entries(m.settledAges)
    .map(
      ([k, a]) =>
        `${k} ${(a.max / 3600).toFixed(2)}h/${((m.floors as Record<string, number>)[k] / 3600).toFixed(2)}h`,
    )
    .join(', ');
  console.log(
    `${v}: fresh ${fmt(s.fresh)} top ${fmt(s.freshTopDecile)} sobb ${fmt(s.soldOutShownBookable)} gap ${fmt((s.fresh - cur.fresh) / (ora.fresh - cur.fresh))} budget ${fmt(j.budgetUsed)} 429 ${m.partner429s} spare ${m.spareCallsMeasured} floor ${m.floorCallsMeasured} never ${m.neverSynced} | ${maxes} | horizons ${Object.values(s.freshByHorizon).map(fmt).join('/')} (${(Date.now() - t) / 1000}s, pick ${(m.pickMs / 1000).toFixed(1)}s)`,
  );
}
