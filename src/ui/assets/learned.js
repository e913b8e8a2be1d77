// Learned rates panel: what the order of work learned (status `learned`): per horizon the mean
// learned change rate of its product-dates, the reads they get, and the share of those reads
// expected fresh (weighted by the reads), the syncs spent on them in the last hour; with this
// instance's read counter; and the value
// rule's plan (status `plan`): the next product-dates and why each is next.
import { percent, ratePerHour } from './accuracy.js';
import { $, dl, el, fill, table } from './dom.js';
import { count, when } from './format.js';

const HORIZON_TEXT = { today: 'today', week: '+1…+6', month: '+7…+29', extended: '+30…+59' };

/** Reads per hour, whole from 10 up, one decimal below. */
export function readsPerHour(rate) {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  if (rate === 0) return 'none';
  return rate >= 10 ? `${Math.round(rate).toLocaleString('en-US')} / h` : `${rate.toFixed(1)} / h`;
}

const WHY_TEXT = {
  floor: 'floor: its maximum age runs out',
  never: 'never synced',
  value: 'value: reads it turns fresh',
  due: 'due, no value learned yet',
};

/** A call's value: the reads a sync now is expected to turn from stale to fresh. */
export function callValue(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  return v >= 10 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(2);
}

/** The plan: when it was ranked, the spare share, and the next product-dates with why. */
function planNodes(plan) {
  if (!plan) return [];
  if (!plan.rankedAt) {
    return [
      el('p', {
        id: 'plan-headline',
        class: 'muted',
        text: `Not ranked here: the sync leader ranks the work (spare share ${percent(plan.budgetShare)}).`,
      }),
    ];
  }
  return [
    el('p', {
      id: 'plan-headline',
      text:
        `Ranked ${when(plan.rankedAt)} in ${count(plan.rankMs)} ms; ` +
        `spare share ${percent(plan.budgetShare)} of each key; ` +
        (plan.forcedMinutes > 0
          ? `the floor forces the next ${count(plan.forcedMinutes)} min of deadlines.`
          : 'no floor deadline is near.'),
    }),
    plan.next.length === 0
      ? el('p', {
          class: 'muted',
          id: 'plan-next-empty',
          text: 'Nothing waits: every list is used up.',
        })
      : el('div', { class: 'table-wrap' }, [
          table(
            ['Next', 'Date', 'Why', 'Value', 'Changes', 'Reads', 'Deadline'],
            plan.next.map((e) => ({
              attrs: { 'data-why': e.why },
              cells: [
                `#${e.productId}`,
                e.date,
                WHY_TEXT[e.why] || e.why,
                callValue(e.value),
                ratePerHour(e.changeRatePerHour),
                readsPerHour(e.readsPerHour),
                when(e.deadline),
              ],
            })),
          ),
        ]),
  ];
}

export function renderLearned(learned, plan) {
  const box = $('learned');
  if (!learned) {
    const none = el('p', {
      class: 'muted',
      text: 'nothing learned yet (the database has not answered)',
    });
    return fill(box, [none, ...planNodes(plan)]);
  }
  const counter = learned.readCounter || {};
  fill(box, [
    el('p', {
      class: 'big',
      id: 'learned-headline',
      text:
        learned.expectedFreshReads === null
          ? 'no reads counted yet'
          : `${percent(learned.expectedFreshReads)} of reads fresh, weighted by reads (${readsPerHour(learned.readsPerHour)})`,
    }),
    el('div', { class: 'table-wrap' }, [
      table(
        ['Horizon', 'Product-dates', 'Changes (mean)', 'Reads', 'Syncs (last hour)', 'Fresh reads'],
        learned.horizons.map((h) => ({
          attrs: { 'data-horizon': h.name },
          cells: [
            HORIZON_TEXT[h.name] || h.name,
            count(h.productDates),
            ratePerHour(h.changeRatePerHour),
            readsPerHour(h.readsPerHour),
            count(h.syncsLastHour),
            percent(h.expectedFreshReads),
          ],
        })),
      ),
    ]),
    dl([
      ['Computed', when(learned.computedAt)],
      [
        'Reads counted here',
        `${count(counter.flushedReads ?? 0)} written, ${count(counter.pending ?? 0)} product-dates waiting` +
          (counter.droppedReads ? `, ${count(counter.droppedReads)} dropped` : ''),
      ],
      ['Last flush', counter.lastFlushAt ? when(counter.lastFlushAt) : '—'],
    ]),
    ...planNodes(plan),
  ]);
}
