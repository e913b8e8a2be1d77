import http from 'node:http';
import https from 'node:https';
import { guardedLookup, PrivateDestinationError } from './destination';

/** How one attempt ended. */
export interface SendResult {
  ok: boolean;
  /** Why it failed, for the subscription's last error (no secret, no body). */
  error?: string;
  /** The receiver's Retry-After, if any. */
  retryAfter?: string;
}

/** Receiver answer bytes read at most (the rest is dropped: only the status matters). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs one signed message. Only a 2xx is a delivery; redirects are not followed (a 3xx is a
 * failure naming its Location's absence of use), the attempt is cut at `timeoutMs` whether the
 * receiver is slow to answer or never does, and the socket only connects to an address
 * guardedLookup allowed.
 */
export function sendWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<SendResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body).toString(),
          'user-agent': 'inventory-sync-webhooks',
        },
        lookup: guardedLookup(opts.allowPrivate),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        const finish = () => {
          if (status >= 200 && status < 300) return done({ ok: true });
          const retryAfter = res.headers['retry-after'];
          const what =
            status >= 300 && status < 400
              ? `HTTP ${status} (redirects are not followed)`
              : `HTTP ${status}`;
          done({
            ok: false,
            error: what,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
          });
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      done({ ok: false, error: `no answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const what =
        err instanceof PrivateDestinationError
          ? err.message
          : `${err.code ?? 'error'}: ${err.message}`;
      done({ ok: false, error: what });
    });
    req.end(body);
  });
}
