import { createHash } from 'node:crypto';

/** Browsers and proxies may reuse an answer this long; short, because a sync can change it any time. */
export const CACHE_CONTROL = 'public, max-age=5';

/** A stale copy served while the database is down: clients may keep it but must ask again. */
export const STALE_CACHE_CONTROL = 'no-cache';

/**
 * The stale marker of RFC 5861 / RFC 7234 §5.5.1 (warn-code 110). RFC 9111 retired the Warning
 * field, but it is still the one marker caches and clients know; Age says how stale.
 */
export const STALE_WARNING = '110 - "Response is Stale"';

/** A strong ETag for a response body (the same body always gets the same tag, on every instance). */
export function etagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * True when an If-None-Match header names `etag` (RFC 9110 weak comparison, so W/"x" matches "x";
 * `*` matches any current representation).
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === opaque);
}
