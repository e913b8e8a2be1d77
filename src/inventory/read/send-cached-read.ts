import type { FastifyReply, FastifyRequest } from 'fastify';
import { CACHE_CONTROL, STALE_CACHE_CONTROL, STALE_WARNING, ifNoneMatchHits } from './http-cache';
import type { CachedRead } from './read-cache';

const JSON_TYPE = 'application/json; charset=utf-8';

type Req = Pick<FastifyRequest, 'headers'>;
type Reply = Pick<FastifyReply, 'header' | 'code' | 'send'>;

/**
 * Writes a cached read: the stored bytes as they are (no serialising or encoding per request;
 * Fastify sends a Buffer as it is and sets its Content-Length), its validators, and 304 with no
 * body when the client already holds this ETag. A stale copy (the database could not answer) also
 * carries its Age and the stale marker.
 */
export function sendCachedRead(
  req: Req,
  reply: Reply,
  read: CachedRead,
  now: Date = new Date(),
): void {
  if (read.stale) {
    reply.header('Cache-Control', STALE_CACHE_CONTROL);
    reply.header('Age', String(Math.max(0, Math.floor((+now - +read.loadedAt) / 1000))));
    reply.header('Warning', STALE_WARNING);
  } else {
    reply.header('Cache-Control', CACHE_CONTROL);
  }
  reply.header('ETag', read.etag);
  if (read.lastModified) reply.header('Last-Modified', read.lastModified.toUTCString());
  if (ifNoneMatchHits(req.headers['if-none-match'], read.etag)) {
    reply.code(304).send();
    return;
  }
  reply.code(200).header('Content-Type', JSON_TYPE).send(read.body);
}
