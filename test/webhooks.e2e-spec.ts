import request from 'supertest';
import { signedHeaders } from '../src/changes/webhooks/signing';
import { PrismaService } from '../src/core/prisma.service';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';
import { useWebhookApp } from './support/webhook-app';
import { answer } from './support/webhook-receiver';
import { QUIET_CRONS } from './support/default-crons';

const TOKEN = 'webhook-admin-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };
const DATES = ['2026-12-20', '2026-12-21'];
/** The receiver outage the issue asks the delivery to ride out. */
const OUTAGE_MS = 60_000;

describe('Webhooks: Standard Webhooks delivery to a real receiver', () => {
  const wh = useWebhookApp('inv_webhooks', TOKEN);
  const { receiver } = wh;

  const status = async (id: string) => {
    const r = await request(wh.t.baseUrl).get('/api/v1/webhooks').set(auth);
    return (r.body.webhooks as Array<Record<string, unknown>>).find((w) => w.id === id)!;
  };

  it(
    'delivers every change once after dedup, in order per product-date, across a 60 s outage',
    async () => {
      const created = await request(wh.t.baseUrl)
        .post('/api/v1/webhooks')
        .set(auth)
        .send({ url: `${receiver.url}/hook`, productIds: [wh.product] });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_/);
      receiver.secret = created.body.secret;
      const listed = await request(wh.t.baseUrl).get('/api/v1/webhooks').set(auth);
      expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
      expect((await request(wh.t.baseUrl).get('/api/v1/webhooks')).status).toBe(401);

      const store = wh.t.app.get(ProductDateStore);
      let remaining = 10;
      const changeAll = async () => {
        remaining--;
        for (const d of DATES) await store.store(wh.product, d, answer(d, remaining));
      };
      await changeAll();
      await changeAll();
      await until('the first four messages', () => receiver.accepted.length >= 4);

      // The receiver goes down for the 60 s: messages are retried (Retry-After: 0 and the
      // backoff from 100 ms, doubling), and what is published meanwhile waits behind them.
      receiver.down = true;
      const downAt = Date.now();
      await changeAll();
      await changeAll();
      await until('retries against the outage', () => receiver.deliveriesWhileDown >= 3);
      expect((await status(created.body.id)).lastError).toBe('HTTP 503');
      await until('a 60 s outage', () => Date.now() - downAt >= OUTAGE_MS, OUTAGE_MS + 10_000, 500);
      receiver.down = false;
      await changeAll();

      const feed = await until('the feed holds ten events', async () => {
        const r = await request(wh.t.baseUrl).get('/api/v1/changes?limit=1000');
        return r.body.events.length === 10 ? r.body.events : null;
      });
      // The next retry comes up to one backoff step after the receiver is back: with the jitter, the
      // 10th or 11th attempt's wait, at most 102 s.
      await until(
        () => `every event delivered (have ${receiver.accepted.length})`,
        () => receiver.accepted.length === 10,
        OUTAGE_MS,
      );
      expect(receiver.rejected).toBe(0);
      expect(receiver.accepted.map((m) => m.id).sort()).toEqual(
        feed.map((e: { cursor: string }) => `evt_${e.cursor}`).sort(),
      );
      for (const d of DATES) {
        const versions = receiver.accepted
          .filter((m) => m.data.date === d)
          .map((m) => BigInt(m.data.version!));
        expect(versions).toHaveLength(5);
        expect([...versions].sort((a, b) => (a < b ? -1 : 1))).toEqual(versions);
      }
      // The receiver answers before the service records the delivery: wait for the record.
      const after = await until('the last delivery recorded', async () => {
        const s = await status(created.body.id);
        return s.pending === 0 ? s : null;
      });
      expect(after).toMatchObject({
        enabled: true,
        pending: 0,
        consecutiveFailures: 0,
        lagSeconds: 0,
      });

      const metrics = (await request(wh.t.baseUrl).get('/metrics')).text;
      const value = (line: string) =>
        Number(new RegExp(`^${line} (\\S+)$`, 'm').exec(metrics)?.[1]);
      expect(value('inventory_sync_change_events_total\\{type="availability.changed"\\}')).toBe(10);
      expect(value('inventory_sync_webhook_attempts_total\\{outcome="delivered"\\}')).toBe(10);
      expect(
        value('inventory_sync_webhook_attempts_total\\{outcome="retry"\\}'),
      ).toBeGreaterThanOrEqual(3);
      expect(value('inventory_sync_webhook_lag_seconds')).toBe(0);
      expect(value('inventory_sync_webhook_subscriptions\\{state="enabled"\\}')).toBe(1);
    },
    3 * OUTAGE_MS,
  );

  it("holds a product-date's later change while an earlier one waits for its retry", async () => {
    const date = '2026-12-22';
    const store = wh.t.app.get(ProductDateStore);
    const before = receiver.accepted.length;
    receiver.failFirstOfDate = date;
    await store.store(wh.product, date, answer(date, 5));
    await store.store(wh.product, date, answer(date, 4));
    await store.store(wh.product, DATES[0], answer(DATES[0], 1));
    await until('the three messages', () => receiver.accepted.length === before + 3);
    const mine = receiver.accepted.slice(before);
    // The other product-date's message is not held; this date's arrive in order.
    expect(mine[0].data.date).toBe(DATES[0]);
    const versions = mine.filter((m) => m.data.date === date).map((m) => BigInt(m.data.version!));
    expect(versions).toHaveLength(2);
    expect(versions[0] < versions[1]).toBe(true);
  });

  it('signs with the old and the new secret after a rotation; the receiver refuses replays', async () => {
    const [{ id }] = (await request(wh.t.baseUrl).get('/api/v1/webhooks').set(auth)).body.webhooks;
    const old = receiver.secret;
    const rotated = await request(wh.t.baseUrl)
      .post(`/api/v1/webhooks/${id}/rotate-secret`)
      .set(auth);
    expect(rotated.status).toBe(200);
    receiver.secret = rotated.body.secret;
    const test = await request(wh.t.baseUrl).post(`/api/v1/webhooks/${id}/test`).set(auth);
    expect(test.status).toBe(202);
    await until('the test message', () => receiver.seen.has(test.body.messageId));
    // The old secret still verifies it (the receiver switched; both signatures were sent).
    receiver.secret = old;
    const again = await request(wh.t.baseUrl).post(`/api/v1/webhooks/${id}/test`).set(auth);
    await until('the second test message', () => receiver.seen.has(again.body.messageId));

    // A replay: a correctly signed message whose timestamp is 10 minutes old is refused.
    const body = JSON.stringify({ type: 'webhook.test', timestamp: '', data: {} });
    const stale = signedHeaders('evt_replay', new Date(Date.now() - 600_000), body, [old]);
    const rejectedBefore = receiver.rejected;
    const r = await fetch(`${receiver.url}/hook`, { method: 'POST', headers: stale, body });
    expect(r.status).toBe(401);
    expect(receiver.rejected).toBe(rejectedBefore + 1);
  });

  it.each([
    ['/r301', 'HTTP 301 (redirects are not followed)'],
    ['/r400', 'HTTP 400'],
    ['/r500', 'HTTP 500'],
    ['/slow', 'no answer within 500 ms'],
    ['/never', 'no answer within 500 ms'],
  ])('records a receiver at %s as failing: %s, and retries', async (path, error) => {
    const created = await request(wh.t.baseUrl)
      .post('/api/v1/webhooks')
      .set(auth)
      .send({ url: `${receiver.url}${path}`, productIds: [999], eventTypes: ['product.removed'] });
    expect(created.status).toBe(201);
    await request(wh.t.baseUrl)
      .post(`/api/v1/webhooks/${created.body.id}/test`)
      .set(auth)
      .expect(202);
    const s = await until('two failed attempts', async () => {
      const w = await status(created.body.id);
      return (w.consecutiveFailures as number) >= 2 ? w : null;
    });
    expect(s).toMatchObject({ lastError: error, enabled: true, pending: 1 });
    await request(wh.t.baseUrl).delete(`/api/v1/webhooks/${created.body.id}`).set(auth).expect(204);
    expect(
      (await request(wh.t.baseUrl).delete(`/api/v1/webhooks/${created.body.id}`).set(auth)).status,
    ).toBe(404);
  });

  it('disables a subscription whose message failed for WEBHOOK_RETRY_HOURS, with the reason', async () => {
    const created = await request(wh.t.baseUrl)
      .post('/api/v1/webhooks')
      .set(auth)
      .send({ url: `${receiver.url}/r500`, productIds: [999] });
    await request(wh.t.baseUrl)
      .post(`/api/v1/webhooks/${created.body.id}/test`)
      .set(auth)
      .expect(202);
    await until(
      'a failed attempt',
      async () => (await status(created.body.id)).lastError === 'HTTP 500',
    );
    // The message has been failing for a day: the next failure gives up.
    await wh.t.app.get(PrismaService).$executeRaw`
      UPDATE webhook_deliveries SET created_at = now() - interval '25 hours'
       WHERE subscription_id = ${created.body.id}`;
    const s = await until('the subscription disabled', async () => {
      const w = await status(created.body.id);
      return w.enabled === false ? w : null;
    });
    expect(s.disabledReason).toMatch(
      /^gave up on test_\w+ after \d+ attempts over 1 h; last error: HTTP 500$/,
    );
    expect(s).toMatchObject({ pending: 0, failed: 1 });
    await request(wh.t.baseUrl).delete(`/api/v1/webhooks/${created.body.id}`).set(auth).expect(204);
  });

  it.each([
    [{ url: 'ftp://example.com/x' }, /url must use http or https/],
    [{ url: 'not a url' }, /absolute http\(s\) URL/],
    [{ url: 'https://example.com/', eventTypes: ['slot.booked'] }, /eventTypes must hold only/],
    [{ url: 'https://example.com/', productIds: [0] }, /productIds must hold positive integers/],
  ])('refuses %j with 400 and the reason', async (body, message) => {
    const r = await request(wh.t.baseUrl).post('/api/v1/webhooks').set(auth).send(body);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.message)).toMatch(message);
  });

  it('refuses a 101st subscription with 409', async () => {
    const existing = (await request(wh.t.baseUrl).get('/api/v1/webhooks').set(auth)).body.webhooks
      .length;
    for (let i = existing; i < 100; i++) {
      await request(wh.t.baseUrl)
        .post('/api/v1/webhooks')
        .set(auth)
        .send({ url: `${receiver.url}/sink`, productIds: [999] })
        .expect(201);
    }
    const r = await request(wh.t.baseUrl)
      .post('/api/v1/webhooks')
      .set(auth)
      .send({ url: `${receiver.url}/sink` });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/at most 100 webhook subscriptions/);
  });
});

describe('Webhooks: private destinations refused by default (SSRF)', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('inv_webhooks_ssrf');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
      ADMIN_TOKEN: TOKEN,
    });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it.each([
    'http://127.0.0.1:9/hook',
    'http://localhost:9/hook',
    'http://[::1]:9/',
    'http://10.0.0.8/',
  ])('refuses %s with 400 naming the address', async (url) => {
    const r = await request(t.baseUrl).post('/api/v1/webhooks').set(auth).send({ url });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(
      /private, loopback or reserved address.*WEBHOOK_ALLOW_PRIVATE_URLS/,
    );
  });
});
