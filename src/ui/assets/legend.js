// The freshness states: colour plus a mark each (so they read in greyscale and for colour-blind
// users), the legend with its counts, and the hint's intervals as the service derives them.
import { $, el } from './dom.js';
import { duration } from './format.js';

export const STATES = {
  fresh: { label: 'fresh', colour: '#1a9850', mark: 'none', text: 'synced within its interval' },
  due: { label: 'due', colour: '#fee08b', mark: 'slash', text: 'older than one interval' },
  stale: { label: 'stale', colour: '#f46d43', mark: 'cross', text: 'older than two intervals' },
  never: { label: 'never synced', colour: '#e0e0e0', mark: 'dot', text: 'no successful sync' },
  failed: {
    label: 'failed',
    colour: '#a50026',
    mark: 'bar',
    text: 'last attempt failed after the last success',
  },
};
export const STATE_ORDER = ['fresh', 'due', 'stale', 'never', 'failed'];
const DEFAULT_CODES = { f: 'fresh', d: 'due', s: 'stale', n: 'never', x: 'failed' };

/** The state of one cell's code in the matrix (`f`, `d`…), by the matrix's own code table. */
export function stateOf(matrix, code) {
  return ((matrix && matrix.codes) || DEFAULT_CODES)[code] || 'never';
}

export function drawMark(ctx, state, x, y, w, h) {
  const mark = STATES[state].mark;
  if (mark === 'none') return;
  ctx.save();
  ctx.lineWidth = Math.max(1, Math.min(w, h) / 8);
  ctx.strokeStyle = state === 'failed' ? '#ffffff' : 'rgba(0,0,0,0.6)';
  ctx.fillStyle = ctx.strokeStyle;
  const inset = Math.max(1, Math.min(w, h) / 6);
  ctx.beginPath();
  if (mark === 'slash') {
    ctx.moveTo(x + inset, y + h - inset);
    ctx.lineTo(x + w - inset, y + inset);
    ctx.stroke();
  } else if (mark === 'cross') {
    ctx.moveTo(x + inset, y + h - inset);
    ctx.lineTo(x + w - inset, y + inset);
    ctx.moveTo(x + inset, y + inset);
    ctx.lineTo(x + w - inset, y + h - inset);
    ctx.stroke();
  } else if (mark === 'dot') {
    ctx.arc(x + w / 2, y + h / 2, Math.max(0.75, Math.min(w, h) / 7), 0, Math.PI * 2);
    ctx.fill();
  } else if (mark === 'bar') {
    ctx.fillRect(x + inset, y + h / 2 - ctx.lineWidth, w - 2 * inset, ctx.lineWidth * 2);
  }
  ctx.restore();
}

/** `today`, `+3`, `today…+6` or `+7…+29`: a band's or window's dates as the page names them. */
export function bandDays(band) {
  const day = (d) => (d === 0 ? 'today' : `+${d}`);
  if (band.fromDay !== band.toDay) return `${day(band.fromDay)}…+${band.toDay}`;
  return day(band.fromDay);
}

export function renderBandIntervals(bands) {
  if (!bands || bands.length === 0) return;
  $('band-intervals').textContent = bands
    .map((b) => `${bandDays(b)} ${duration(b.intervalSeconds)}`)
    .join(', ');
}

export function renderLegend(counts) {
  $('legend').replaceChildren(
    ...STATE_ORDER.map((state) => {
      const swatch = el('canvas', { width: '16', height: '16', 'aria-hidden': 'true' });
      const ctx = swatch.getContext('2d');
      ctx.fillStyle = STATES[state].colour;
      ctx.fillRect(0, 0, 16, 16);
      drawMark(ctx, state, 0, 0, 16, 16);
      const n = counts ? counts[state] : undefined;
      return el('li', { 'data-state': state, title: STATES[state].text }, [
        swatch,
        el('span', { class: 'legend-label', text: STATES[state].label }),
        el('span', {
          class: 'legend-count',
          'data-count': String(n ?? ''),
          text: n === undefined ? '' : String(n),
        }),
      ]);
    }),
  );
}
