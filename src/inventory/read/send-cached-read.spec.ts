import type { CachedRead } from './read-cache';
import { sendCachedRead } from './send-cached-read';

type Reply = Parameters<typeof sendCachedRead>[1];

function send(read: CachedRead, now: Date, ifNoneMatch?: string) {
  const headers: Record<string, string | number> = {};
  const out = { status: 0, body: undefined as string | undefined, headers };
  const reply: Reply = {
    header(k: string, v: unknown) {
      headers[k.toLowerCase()] = v as string;
      return reply;
    },
    code(code: number) {
      out.status = code;
      return reply;
    },
    send(body?: unknown) {
      out.body = (body as Buffer | undefined)?.toString();
      return reply;
    },
  } as unknown as Reply;
  sendCachedRead({ headers: { 'if-none-match': ifNoneMatch } }, reply, read, now);
  return out;
}

const loadedAt = new Date('2026-12-01T10:00:00Z');
const read: CachedRead = { body: Buffer.from('[]'), etag: '"e"', lastModified: null, loadedAt };

describe('sendCachedRead', () => {
  it.each<[string, CachedRead, number, Record<string, string | number | undefined>]>([
    [
      'a fresh answer: no Age, no stale marker',
      read,
      5,
      { 'cache-control': 'public, max-age=5', age: undefined, warning: undefined },
    ],
    [
      'a stale copy: Age from its load and Warning 110',
      { ...read, stale: true },
      95.7,
      { 'cache-control': 'no-cache', age: '95', warning: '110 - "Response is Stale"' },
    ],
  ])('%s', (_what, r, secondsLater, expected) => {
    const out = send(r, new Date(loadedAt.getTime() + secondsLater * 1000));
    expect(out.status).toBe(200);
    expect(out.body).toBe('[]');
    expect(out.headers['content-type']).toBe('application/json; charset=utf-8');
    for (const [name, value] of Object.entries(expected)) expect(out.headers[name]).toBe(value);
  });

  it('answers 304 with the stale marker to a client that holds the stale copy', () => {
    const out = send({ ...read, stale: true }, new Date(loadedAt.getTime() + 60_000), '"e"');
    expect(out.status).toBe(304);
    expect(out.body).toBeUndefined();
    expect(out.headers['warning']).toBe('110 - "Response is Stale"');
    expect(out.headers['age']).toBe('60');
  });
});
