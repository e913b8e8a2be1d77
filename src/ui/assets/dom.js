// Small DOM helpers shared by the panels: every element is built with textContent, never innerHTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children || []) if (child) node.append(child);
  return node;
}

/**
 * A table; a row is an array of cells or `{ attrs, cells }`, a cell a Node or a value shown as
 * text (null and undefined as —).
 */
export function table(headers, rows) {
  return el('table', {}, [
    el('thead', {}, [
      el(
        'tr',
        {},
        headers.map((h) => el('th', { scope: 'col', text: h })),
      ),
    ]),
    el(
      'tbody',
      {},
      rows.map((row) =>
        el(
          'tr',
          Array.isArray(row) ? {} : row.attrs,
          (Array.isArray(row) ? row : row.cells).map((c) =>
            c instanceof Node ? el('td', {}, [c]) : el('td', { text: String(c ?? '—') }),
          ),
        ),
      ),
    ),
  ]);
}

/** A definition list of [term, value] pairs; a value is a Node or text. */
export function dl(pairs) {
  const list = el('dl', { class: 'facts' });
  for (const [term, value] of pairs) {
    list.append(el('dt', { text: term }));
    list.append(value instanceof Node ? el('dd', {}, [value]) : el('dd', { text: value }));
  }
  return list;
}

/** A state word in a pill; its class colours it (badge-ok, badge-failed, badge-held…). */
export function badge(state, text) {
  return el('span', { class: `badge badge-${state || 'unknown'}`, text: text || state || '—' });
}

/** Replaces a panel's content, or says why there is none. */
export function fill(box, nodes, emptyText) {
  box.replaceChildren(...(nodes ? nodes : [el('p', { class: 'muted', text: emptyText })]));
}
