// The webhooks panel: each subscription's state, lag (oldest undelivered message) and last error.
// GET /api/v1/webhooks needs the admin token, so the panel asks for it when the service does.
import { $, badge, el, fill, table } from './dom.js';
import { duration, when } from './format.js';

export function renderWebhooks(answer) {
  const box = $('webhooks');
  if (answer === null) {
    fill(
      box,
      null,
      'Enter the admin token (Pause, Resume or Run now asks for it) to see the webhooks.',
    );
    return;
  }
  if (answer.webhooks.length === 0) {
    fill(box, null, 'No webhook subscriptions.');
    return;
  }
  const rows = answer.webhooks.map((w) => ({
    attrs: { 'data-webhook': w.id },
    cells: [
      w.url,
      w.enabled ? badge('ok', 'enabled') : badge('failed', 'disabled'),
      w.pending,
      w.lagSeconds > 0 ? duration(w.lagSeconds) : '—',
      w.failed,
      w.disabledReason || (w.lastError ? `${w.lastError} (${when(w.lastErrorAt)})` : null),
    ],
  }));
  fill(box, [table(['URL', 'state', 'waiting', 'lag', 'given up', 'last error'], rows)]);
}

export function renderWebhooksUnavailable(message) {
  fill($('webhooks'), [el('p', { class: 'muted', text: `Webhooks unavailable: ${message}` })]);
}
