import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What every log line written while serving one HTTP request should carry. */
export interface RequestContext {
  requestId: string;
}

/** The request being served, if any; read by the logger's mixin. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

// Enough for UUIDs, ULIDs and the ids proxies and load balancers send; nothing that could break a
// log line or a header (no spaces, quotes, newlines).
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The incoming X-Request-Id when it is a sane value, otherwise a new UUID. */
export function acceptRequestId(
  incoming: string | string[] | undefined,
  generate: () => string = randomUUID,
): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : generate();
}
