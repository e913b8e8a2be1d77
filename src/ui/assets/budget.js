// Partner budget panel: the sum over the keys, then one row per partner key. The rows come from
// `limiter.keys` (key pool); a status without `keys` (a single-key service) gives one row built
// from the aggregate. Only a key's name and fingerprint are ever shown, nothing else of the key.
import { $, badge, dl, el, fill, table } from './dom.js';
import { duration, when } from './format.js';

const STATE_LABELS = {
  active: 'active',
  probing: 'probing',
  held: 'held',
  rejected: 'rejected',
  breaker_open: 'breaker open',
};

/** Queued calls: a number (key pool) or one count per priority (single-key limiter). */
export function queuedTotal(queued) {
  if (typeof queued === 'number') return queued;
  if (!queued || typeof queued !== 'object') return 0;
  return Object.values(queued).reduce((sum, n) => sum + (Number.isFinite(n) ? n : 0), 0);
}

/** A single-key status has no per-key state: derive it from the hold and the breaker. */
function aggregateState(limiter) {
  if (limiter.breaker === 'open') return 'breaker_open';
  if (limiter.pausedUntil) return 'held';
  if (limiter.breaker === 'half-open') return 'probing';
  return 'active';
}

/** The rows of the key table, DOM-free: one per key of the pool, or one for the single key. */
export function budgetRows(limiter) {
  if (!limiter) return [];
  if (Array.isArray(limiter.keys)) {
    return limiter.keys.map((k) => ({
      name: k.name,
      fingerprint: k.fingerprint ?? null,
      state: k.state,
      spentInWindow: k.spentInWindow,
      limit: k.limit,
      windowMs: k.windowMs,
      heldUntil: k.heldUntil ?? null,
      hold: k.hold ?? null,
      breaker: k.breaker,
      breakerRetryAt: k.breakerRetryAt ?? null,
      rejectedStatus: k.rejectedStatus ?? null,
    }));
  }
  return [
    {
      name: 'partner key',
      fingerprint: null,
      state: aggregateState(limiter),
      spentInWindow: limiter.spentInWindow,
      limit: limiter.limit,
      windowMs: limiter.windowMs,
      heldUntil: limiter.pausedUntil ?? null,
      hold: limiter.hold ?? null,
      breaker: limiter.breaker,
      breakerRetryAt: limiter.breakerRetryAt ?? null,
      rejectedStatus: null,
    },
  ];
}

export function stateText(row) {
  const label = STATE_LABELS[row.state] || row.state || '—';
  return row.state === 'rejected' && row.rejectedStatus
    ? `${label} (${row.rejectedStatus})`
    : label;
}

export function heldText(row, now = Date.now()) {
  if (!row.heldUntil) return 'not held';
  const hold = row.hold;
  const capped =
    hold && hold.capped ? ` (capped; the partner asked for ${when(hold.hintedUntil, now)})` : '';
  return when(row.heldUntil, now) + capped;
}

export function breakerText(row, now = Date.now()) {
  return row.breaker === 'open' && row.breakerRetryAt
    ? `probes ${when(row.breakerRetryAt, now)}`
    : '';
}

function meter(spent, limit, label, id) {
  return el('meter', {
    ...(id ? { id } : {}),
    min: '0',
    max: String(limit),
    value: String(spent),
    high: String(Math.ceil(limit * 0.8)),
    'aria-label': label,
  });
}

function keyCell(row) {
  return el('span', { class: 'key-name' }, [
    document.createTextNode(row.name),
    row.fingerprint ? document.createTextNode(' ') : null,
    row.fingerprint
      ? el('code', {
          class: 'fingerprint',
          title: 'sha256 fingerprint of the key',
          text: row.fingerprint,
        })
      : null,
  ]);
}

function keyTable(rows) {
  return el('div', { class: 'table-wrap', id: 'budget-keys' }, [
    table(
      ['Key', 'Calls in window', 'State', 'Held until', 'Breaker'],
      rows.map((row) => ({
        attrs: { 'data-key': row.name, 'data-state': row.state },
        cells: [
          keyCell(row),
          el('span', { class: 'key-spent' }, [
            document.createTextNode(
              `${row.spentInWindow} / ${row.limit} in ${duration(row.windowMs / 1000)}`,
            ),
            meter(row.spentInWindow, row.limit, `calls of ${row.name} in the current window`),
          ]),
          badge(row.state, stateText(row)),
          row.heldUntil ? el('strong', { class: 'warn', text: heldText(row) }) : heldText(row),
          el('span', {}, [badge(row.breaker), document.createTextNode(` ${breakerText(row)}`)]),
        ],
      })),
    ),
  ]);
}

export function renderBudget(limiter, due) {
  const box = $('budget');
  if (!limiter) return fill(box, null, 'no budget information');
  const byHorizon = (due && due.byHorizon) || {};
  const keyed = Array.isArray(limiter.keys);
  fill(
    box,
    [
      el('p', {
        class: 'big',
        id: 'budget-calls',
        text: `${limiter.spentInWindow} / ${limiter.limit} calls in the last ${duration(limiter.windowMs / 1000)}`,
      }),
      meter(limiter.spentInWindow, limiter.limit, 'calls in the current window', 'budget-meter'),
      keyed && limiter.pausedUntil
        ? el('p', {
            class: 'warn',
            id: 'budget-all-held',
            text: `Every key is held until ${when(limiter.pausedUntil)}`,
          })
        : null,
      keyTable(budgetRows(limiter)),
      dl([
        ['Due: today', String(byHorizon.today ?? 0)],
        ['Due: +1…+6', String(byHorizon.week ?? 0)],
        ['Due: +7…+29', String(byHorizon.month ?? 0)],
        ['Due: +30…+59', String(byHorizon.extended ?? 0)],
        ['Waiting after a failure', String((due && due.backingOff) ?? 0)],
        [
          'Products backing off',
          String((due && due.productsBackingOff && due.productsBackingOff.length) ?? 0),
        ],
        ['Queued calls', String(queuedTotal(limiter.queued))],
        ['In flight', String(limiter.running ?? 0)],
        ['Circuit breaker', badge(limiter.breaker)],
      ]),
    ].filter(Boolean),
  );
}
