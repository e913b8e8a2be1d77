import type { Request, Response } from 'express';
import { CACHE_CONTROL, STALE_CACHE_CONTROL, STALE_WARNING, ifNoneMatchHits } from './http-cache';
import type { CachedRead } from './read-cache';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Writes a cached read: the stored bytes as they are (no serialising, encoding or length
 * counting per request), its validators, and 304 with no body when the client already holds this
 * ETag. A stale copy (the database could not answer) also carries its Age and the stale marker.
 * Plain Node calls rather than express' status()/type(), which parse the type on every answer.
 */
export function sendCachedRead(
  req: Request,
  res: Response,
  read: CachedRead,
  now: Date = new Date(),
): void {
  if (read.stale) {
    res.setHeader('Cache-Control', STALE_CACHE_CONTROL);
    res.setHeader('Age', String(Math.max(0, Math.floor((+now - +read.loadedAt) / 1000))));
    res.setHeader('Warning', STALE_WARNING);
  } else {
    res.setHeader('Cache-Control', CACHE_CONTROL);
  }
  res.setHeader('ETag', read.etag);
  if (read.lastModified) res.setHeader('Last-Modified', read.lastModified.toUTCString());
  if (ifNoneMatchHits(req.headers['if-none-match'], read.etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', read.body.length);
  res.end(read.body);
}
