// Accuracy panel: the service's estimate of the share of reads that show the partner's current
// data (status `accuracy`): one headline number, each horizon's change rate and share, and a
// small chart of the last 24 h (samples every 5 minutes, kept by the service in memory).
import { $, dl, el, fill, table } from './dom.js';
import { count, when } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAY_MS = 24 * 3_600_000;
const CHART_W = 288;
const CHART_H = 60;
const HORIZON_TEXT = { today: 'today', week: '+1…+6', month: '+7…+29', extended: '+30…+59' };

/** A share 0..1 as a whole percent; null as —. */
export function percent(ratio) {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio)
    ? '—'
    : `${Math.round(ratio * 100)} %`;
}

/** Changes per hour, readable from one a week to many an hour. */
export function ratePerHour(rate) {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  if (rate === 0) return 'none seen';
  if (rate >= 1) return `${rate.toFixed(1)} / h`;
  const hours = 1 / rate;
  return hours < 48 ? `1 per ${hours.toFixed(1)} h` : `1 per ${(hours / 24).toFixed(1)} days`;
}

/**
 * The chart's lines: `history` ({ at, expectedFreshReads }) placed on `width` × `height` over the
 * 24 h before `now` (share 1 at the top). A missing sample (null) or a gap over 15 minutes
 * breaks the line. Returns polyline `points` strings, oldest first.
 */
export function chartLines(history, now, width = CHART_W, height = CHART_H) {
  const lines = [];
  let current = [];
  let lastAt = null;
  for (const { at, expectedFreshReads } of history || []) {
    const t = Date.parse(at);
    if (Number.isNaN(t) || t < now - DAY_MS || t > now) continue;
    const gap = lastAt !== null && t - lastAt > 15 * 60_000;
    if (expectedFreshReads === null || gap) {
      if (current.length) lines.push(current.join(' '));
      current = [];
    }
    lastAt = t;
    if (expectedFreshReads === null) continue;
    const x = ((t - (now - DAY_MS)) / DAY_MS) * width;
    const y = (1 - Math.min(1, Math.max(0, expectedFreshReads))) * height;
    current.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  if (current.length) lines.push(current.join(' '));
  return lines;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function chart(history, now) {
  const lines = chartLines(history, now);
  const box = svg('svg', {
    id: 'accuracy-chart',
    viewBox: `0 0 ${CHART_W} ${CHART_H}`,
    role: 'img',
    'aria-label': `Estimated fresh reads over the last 24 h, ${history.length} samples`,
    'data-lines': lines.length,
  });
  box.append(svg('rect', { x: 0, y: 0, width: CHART_W, height: CHART_H, class: 'chart-frame' }));
  for (const share of [0.5, 0.9]) {
    const y = (1 - share) * CHART_H;
    box.append(svg('line', { x1: 0, x2: CHART_W, y1: y, y2: y, class: 'chart-grid' }));
  }
  for (const points of lines) {
    // A single sample is a point: draw it as a short dash so it shows.
    const p = points.includes(' ')
      ? points
      : `${points} ${points.replace(/^[\d.]+/, (x) => String(Number(x) + 2))}`;
    box.append(svg('polyline', { points: p, class: 'chart-line' }));
  }
  return el('figure', { class: 'chart' }, [
    box,
    el('figcaption', { class: 'muted', text: 'last 24 h (grid at 50 % and 90 %)' }),
  ]);
}

export function renderAccuracy(accuracy, now = Date.now()) {
  const box = $('accuracy');
  if (!accuracy) return fill(box, null, 'no estimate yet (the database has not answered)');
  const headline = accuracy.expectedFreshReads;
  fill(box, [
    el('p', {
      class: 'big',
      id: 'accuracy-headline',
      text:
        headline === null
          ? 'fresh reads: no estimate yet (a product-date needs two syncs)'
          : `${percent(headline)} of reads fresh (estimated)`,
    }),
    el('div', { class: 'table-wrap' }, [
      table(
        ['Horizon', 'Changes', 'Syncs seen (changed)', 'Fresh reads'],
        accuracy.horizons.map((h) => ({
          attrs: { 'data-horizon': h.name },
          cells: [
            HORIZON_TEXT[h.name] || h.name,
            ratePerHour(h.changeRatePerHour),
            `${count(h.observations)} (${count(h.changed)})`,
            percent(h.expectedFreshReads),
          ],
        })),
      ),
    ]),
    chart(accuracy.history || [], now),
    dl([
      ['Estimated', when(accuracy.estimatedAt)],
      ['Method', accuracy.method || '—'],
    ]),
  ]);
}
