// The page's only door to the service: the documented endpoints under /api/v1/experience/sync,
// and the webhook subscriptions' state (/api/v1/webhooks).
import { errorText } from './format.js';

const API = '/api/v1/experience/sync';

export class ApiError extends Error {
  constructor(status, body) {
    super(errorText(status, body));
    this.status = status;
    this.body = body;
  }
}

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

export const fetchStatus = () => getJson(`${API}/status`);
/** One page of the freshness matrix: `limit` configured products from `offset`. */
export const fetchFreshness = (offset, limit) =>
  getJson(`${API}/freshness?offset=${offset}&limit=${limit}`);

/** The webhook subscriptions with their lag and last error (admin token; null without one). */
export async function fetchWebhooks(token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch('/api/v1/webhooks', { headers, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (res.status === 401) return null;
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/**
 * POST pause, resume or run. Resolves with the HTTP status and JSON body whatever the status (the
 * caller words a refusal); rejects only when the service did not answer.
 */
export async function postControl(action, body, token) {
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${API}/${action}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, ok: res.ok, body: await res.json().catch(() => null) };
}
