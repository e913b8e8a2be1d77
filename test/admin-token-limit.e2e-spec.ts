import http from 'node:http';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { QUIET_CRONS } from './support/default-crons';
import { until } from './support/until';

const ADMIN_TOKEN = 'limit-e2e-admin-token-0123456789';
const WRONG = 'Bearer wrong-token-0123456789abcdef';
const RIGHT = `Bearer ${ADMIN_TOKEN}`;
// Short enough to wait out in a test, long enough for 11 local requests on a loaded machine.
const WINDOW_MS = 10_000;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: unknown;
}

/**
 * POST to a control endpoint from a chosen loopback source address: Linux routes all of
 * 127.0.0.0/8 to loopback, so 127.0.0.2 is a second client as Fastify sees it (trustProxy off).
 */
function control(
  base: string,
  from: string,
  authorization: string | null,
  endpoint = 'resume',
): Promise<Answer> {
  return send(base, from, authorization, 'POST', `/api/v1/experience/sync/${endpoint}`);
}

function send(
  base: string,
  from: string,
  authorization: string | null,
  method: string,
  path: string,
): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        localAddress: from,
        headers: authorization ? { authorization } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body: JSON.parse(text),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('failed admin token attempts are limited per client over HTTP', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('inv_adminlimit');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_PRODUCT_IDS: '14',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
      ADMIN_TOKEN,
      ADMIN_FAILURE_WINDOW_MS: String(WINDOW_MS),
    });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('answers the 11th wrong attempt with 429 and Retry-After; other clients keep working; the window passes', async () => {
    // One count for the three endpoints, wrong and missing tokens alike.
    for (let i = 1; i <= 10; i++) {
      const endpoint = ['pause', 'resume', 'run'][i % 3];
      const wrong = await control(t.baseUrl, '127.0.0.1', i % 2 ? WRONG : null, endpoint);
      expect(wrong.status).toBe(401);
    }
    const blocked = await control(t.baseUrl, '127.0.0.1', WRONG);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/^Too many failed admin token attempts; retry in \d+ s$/),
    });
    const seconds = Number(blocked.retryAfter);
    expect(Number.isInteger(seconds)).toBe(true);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(JSON.stringify(blocked.body)).not.toContain(ADMIN_TOKEN);

    // Blocked means blocked: the right token from that client waits for the window too.
    expect((await control(t.baseUrl, '127.0.0.1', RIGHT)).status).toBe(429);
    // Another client, right token: served; wrong token: its own 401, not the other's 429.
    expect((await control(t.baseUrl, '127.0.0.2', RIGHT)).status).toBe(200);
    expect((await control(t.baseUrl, '127.0.0.2', WRONG)).status).toBe(401);

    // Once its failures leave the window, the blocked client is served again.
    await until(
      'the blocked client to be served again',
      async () => (await control(t.baseUrl, '127.0.0.1', RIGHT)).status === 200,
      WINDOW_MS + 20_000,
      250,
    );
    expect((await control(t.baseUrl, '127.0.0.1', WRONG)).status).toBe(401);
  });

  it('counts the webhooks API and the control API together for one client', async () => {
    // Nest builds one guard per module; the failures live in one provider, so a client cannot
    // take ten guesses on each API.
    const webhooks = (authorization: string | null) =>
      send(t.baseUrl, '127.0.0.3', authorization, 'GET', '/api/v1/webhooks');
    for (let i = 0; i < 5; i++) expect((await webhooks(WRONG)).status).toBe(401);
    for (let i = 0; i < 5; i++) {
      expect((await control(t.baseUrl, '127.0.0.3', WRONG, 'pause')).status).toBe(401);
    }
    expect((await webhooks(RIGHT)).status).toBe(429);
    expect((await control(t.baseUrl, '127.0.0.3', RIGHT)).status).toBe(429);
  });

  it('documents the 429 and its Retry-After on pause, resume and run in OpenAPI', async () => {
    const doc = (await (await fetch(`${t.baseUrl}/docs-json`)).json()) as {
      paths: Record<string, { post: { responses: Record<string, { headers?: object }> } }>;
    };
    for (const path of ['pause', 'resume', 'run']) {
      const { responses } = doc.paths[`/api/v1/experience/sync/${path}`].post;
      expect(responses['401']).toBeDefined();
      expect(responses['429'].headers).toHaveProperty('Retry-After');
    }
  });
});
