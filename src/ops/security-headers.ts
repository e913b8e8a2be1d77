import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

type Directives = Record<string, string[]>;

/**
 * Every answer (JSON, errors, 404s): nothing may frame it, run from it or load into it. JSON needs
 * no script, style or image, so the policy allows none.
 */
export const API_CSP_DIRECTIVES: Directives = {
  defaultSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/**
 * /docs (swagger-ui): its own script and stylesheet from this origin, an inline <style> block and
 * inline style attributes in its HTML and React views, data: images in its CSS, and fetches of
 * /docs-json. Nothing from another origin; still never framed.
 */
export const DOCS_CSP_DIRECTIVES: Directives = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

type HeaderSetter = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * helmet's headers on every answer: X-Content-Type-Options nosniff, X-Frame-Options DENY and CSP
 * frame-ancestors 'none' (no clickjacking), Referrer-Policy no-referrer, cross-origin isolation
 * headers. No Strict-Transport-Security: TLS ends at the load balancer in front of the service,
 * which owns that header. The operator's page sets its own, stricter CSP (src/ui).
 */
export function securityHeaders(): HeaderSetter {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    strictTransportSecurity: false,
  });
}

/** For /docs, after securityHeaders(): replaces the CSP with what swagger-ui needs. */
export function docsContentSecurityPolicy(): HeaderSetter {
  return helmet.contentSecurityPolicy({ useDefaults: false, directives: DOCS_CSP_DIRECTIVES });
}

/**
 * One Fastify onRequest hook that sets helmet's headers on the raw response before any route (or
 * the 404 and error handlers) runs, and swagger-ui's CSP under `docsPrefix`. helmet sets them
 * synchronously; headers a route sets itself (the operator page's CSP) take precedence.
 */
export function securityHeadersHook(docsPrefix: string) {
  const api = securityHeaders();
  const docs = docsContentSecurityPolicy();
  const underDocs = (url: string): boolean =>
    url === docsPrefix || url.startsWith(`${docsPrefix}/`) || url.startsWith(`${docsPrefix}?`);
  return (
    request: { raw: IncomingMessage; url: string },
    reply: { raw: ServerResponse },
    done: (err?: Error) => void,
  ): void => {
    api(request.raw, reply.raw, (err) => {
      if (err) return done(err as Error);
      if (!underDocs(request.url)) return done();
      docs(request.raw, reply.raw, (docsErr) => done(docsErr as Error | undefined));
    });
  };
}
