// Capacity plan panel: calls per day the schedule needs vs what the partner budget (the sum of the
// keys' budgets) allows, with the over-capacity warning.
import { $, dl, el, fill } from './dom.js';
import { count } from './format.js';

export function renderCapacity(capacity) {
  const box = $('capacity');
  if (!capacity) return fill(box, null, 'no capacity plan');
  const ratio = capacity.callsPerDayAllowed
    ? Math.round((capacity.callsPerDayNeeded / capacity.callsPerDayAllowed) * 100)
    : 0;
  fill(
    box,
    [
      capacity.overCapacity
        ? el('p', {
            class: 'message message-error',
            id: 'over-capacity',
            text:
              `Over capacity: ${capacity.products} products need ${count(capacity.callsPerDayNeeded)} calls/day ` +
              `but the partner budget allows ${count(capacity.callsPerDayAllowed)}. ${capacity.policy || ''}`,
          })
        : null,
      el('p', {
        class: 'big',
        text: `${count(capacity.callsPerDayNeeded)} of ${count(capacity.callsPerDayAllowed)} calls/day (${ratio} %)`,
      }),
      dl([
        ['Products', String(capacity.products)],
        ['Needed without dedupe', `${count(capacity.callsPerDayWithoutDedupe)} calls/day`],
        ['Most products the budget can keep in sync', count(capacity.maxProducts)],
        ['Policy', capacity.policy || '—'],
        [
          'Stretch (needed ÷ allowed)',
          capacity.stretchFactor === undefined ? '—' : `${capacity.stretchFactor}×`,
        ],
      ]),
    ].filter(Boolean),
  );
}
