// Pure formatting: numbers, durations and the page's one date format. No DOM, no fetch.

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.abs(Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

const pad = (n) => String(n).padStart(2, '0');

// Thousands grouped the same way whatever the browser's locale: 43,200.
export const count = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

/** The one date format of the page: local time, ISO-like, with its zone (2026-12-01 12:00:00 UTC+1). */
export function stamp(ms) {
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const zone =
    offset === 0
      ? 'UTC'
      : `UTC${offset > 0 ? '+' : '-'}${Math.floor(Math.abs(offset) / 60)}` +
        (Math.abs(offset) % 60 ? `:${pad(Math.abs(offset) % 60)}` : '');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`
  );
}

/** An ISO time as stamp() plus how far away it is: `2026-12-01 12:00:00 UTC (42 s ago)`. */
export function when(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  const delta = (t - now) / 1000;
  const rel = delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
  return `${stamp(t)} (${rel})`;
}

/** An error answer of the API as one line: `401 Unauthorized: missing token`. */
export function errorText(status, body) {
  const name = body && body.error ? body.error : '';
  const message = body && body.message ? [].concat(body.message).join('; ') : '';
  return `${status}${name ? ' ' + name : ''}${message ? ': ' + message : ''}`;
}

/** `counts` of a run or a window's last run, as one line. */
export function runCounts(run) {
  if (!run) return '—';
  const left = run.outcome === 'running' ? `, ${run.remaining ?? 0} remaining` : '';
  return `${run.succeeded}/${run.planned} ok, ${run.failed} failed${left}, ${run.changed} changed, ${run.deduplicated} shared`;
}
