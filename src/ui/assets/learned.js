// Learned rates panel: what the order of work learned (status `learned`): per horizon the mean
// learned change rate of its product-dates, the reads they get, and the share of those reads
// expected fresh (weighted by the reads); with this instance's read counter.
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

export function renderLearned(learned) {
  const box = $('learned');
  if (!learned) return fill(box, null, 'nothing learned yet (the database has not answered)');
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
        ['Horizon', 'Product-dates', 'Changes (mean)', 'Reads', 'Fresh reads'],
        learned.horizons.map((h) => ({
          attrs: { 'data-horizon': h.name },
          cells: [
            HORIZON_TEXT[h.name] || h.name,
            count(h.productDates),
            ratePerHour(h.changeRatePerHour),
            readsPerHour(h.readsPerHour),
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
  ]);
}
