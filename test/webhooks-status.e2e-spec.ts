import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import type { WebhooksStatus } from '../src/inventory/changes/webhooks-status';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import type { SyncStatus } from '../src/inventory/sync-status.types';
import { until } from './support/until';
import { useWebhookApp } from './support/webhook-app';
import { answer, Receiver } from './support/webhook-receiver';

const TOKEN = 'webhook-status-admin-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };
/** A receiver token in the URL: status must not show it. */
const URL_TOKEN = 'receiver-url-token-s3cret';

describe('Webhooks in the sync status, and re-enabling a disabled subscription', () => {
  const wh = useWebhookApp('inv_webhooks_status', TOKEN);
  const { receiver } = wh;

  const webhooksInStatus = async (): Promise<WebhooksStatus> => {
    const body = (await request(wh.t.baseUrl).get('/api/v1/experience/sync/status').expect(200))
      .body as SyncStatus;
    return body.webhooks!;
  };
  const subscription = async (id: string) => {
    const r = await request(wh.t.baseUrl).get('/api/v1/webhooks').set(auth);
    return (r.body.webhooks as Array<Record<string, unknown>>).find((w) => w.id === id)!;
  };
  const subscribe = async (url: string, productIds: number[]): Promise<string> => {
    const r = await request(wh.t.baseUrl)
      .post('/api/v1/webhooks')
      .set(auth)
      .send({ url, productIds });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  /** Makes the subscription's waiting messages a day old: its next failure gives up. */
  const ageDeliveries = (id: string, interval: string) =>
    wh.t.app.get(PrismaService).$executeRaw`
      UPDATE webhook_deliveries SET created_at = now() - ${interval}::interval
       WHERE subscription_id = ${id} AND state = 'pending'`;
  const disabled = (id: string) =>
    until(`subscription ${id} disabled`, async () => {
      const w = await subscription(id);
      return w.enabled === false ? w : null;
    });

  it('shows none while there are no subscriptions', async () => {
    expect(await webhooksInStatus()).toEqual({
      subscriptions: { enabled: 0, disabled: 0 },
      failing: 0,
      pending: 0,
      lagSeconds: 0,
      givenUp: 0,
      disabled: [],
    });
  });

  it('counts enabled and disabled subscriptions, failures, waiting and given-up messages, the lag, without secrets', async () => {
    const created = await request(wh.t.baseUrl)
      .post('/api/v1/webhooks')
      .set(auth)
      .send({ url: `${receiver.url}/hook?token=${URL_TOKEN}`, productIds: [wh.product] });
    const failing = created.body.id as string;
    receiver.secret = created.body.secret;
    // The receiver is down (503) for this one too; its path is not shown either.
    const broken = await subscribe(`${receiver.url}/down/${URL_TOKEN}`, [999]);
    receiver.down = true;
    await wh.t.app.get(ProductDateStore).store(wh.product, '2026-12-20', answer('2026-12-20', 3));
    await until('a failed attempt', async () => (await webhooksInStatus()).failing === 1);
    await ageDeliveries(failing, '120 seconds');

    await request(wh.t.baseUrl).post(`/api/v1/webhooks/${broken}/test`).set(auth).expect(202);
    await until('the test message failing', async () => (await subscription(broken)).lastError);
    await ageDeliveries(broken, '25 hours');
    await disabled(broken);

    const s = await webhooksInStatus();
    expect(s).toMatchObject({
      subscriptions: { enabled: 1, disabled: 1 },
      failing: 1,
      pending: 1,
      givenUp: 1,
    });
    // The waiting message was queued 120 s ago; the disabled one's given-up message is not lag.
    expect(s.lagSeconds).toBeGreaterThanOrEqual(120);
    expect(s.lagSeconds).toBeLessThan(3600);
    expect(s.disabled).toEqual([
      {
        id: broken,
        destination: receiver.url,
        disabledReason: expect.stringMatching(/^gave up on test_\w+ after \d+ attempts/),
        lastError: 'HTTP 503',
        lastErrorAt: expect.any(String),
      },
    ]);
    const text = JSON.stringify(s);
    expect(text).not.toContain(URL_TOKEN);
    expect(text).not.toContain('whsec_');

    receiver.down = false;
    await until(
      'the waiting message delivered',
      async () => (await webhooksInStatus()).pending === 0,
    );
    expect(await webhooksInStatus()).toMatchObject({ failing: 0, lagSeconds: 0 });
    for (const id of [failing, broken]) {
      await request(wh.t.baseUrl).delete(`/api/v1/webhooks/${id}`).set(auth).expect(204);
    }
  });

  it('re-enables a disabled subscription from its oldest undelivered event: each change once, in order per product-date', async () => {
    const dates = ['2026-12-23', '2026-12-24'];
    const store = wh.t.app.get(ProductDateStore);
    const other = new Receiver();
    await other.start();
    try {
      const created = await request(wh.t.baseUrl)
        .post('/api/v1/webhooks')
        .set(auth)
        .send({ url: `${other.url}/hook`, productIds: [wh.product] });
      const id = created.body.id as string;
      other.secret = created.body.secret;
      other.down = true;
      let seats = 20;
      const changeAll = async () => {
        seats--;
        for (const d of dates) await store.store(wh.product, d, answer(d, seats));
      };
      await changeAll();
      await until('attempts against the outage', () => other.deliveriesWhileDown >= 2);
      await ageDeliveries(id, '25 hours');
      const off = await disabled(id);
      expect(off.disabledReason).toMatch(/^gave up on evt_\d+/);

      // Published while disabled: not queued to it.
      await changeAll();
      await changeAll();
      const head = await until('the feed holds the six events', async () => {
        const r = await request(wh.t.baseUrl).get(
          `/api/v1/changes?productId=${wh.product}&limit=1000`,
        );
        const mine = (r.body.events as Array<{ cursor: string; date: string }>).filter((e) =>
          dates.includes(e.date),
        );
        return mine.length === 6 ? mine : null;
      });
      expect((await subscription(id)).pending).toBeLessThanOrEqual(1);

      other.down = false;
      const enabled = await request(wh.t.baseUrl).post(`/api/v1/webhooks/${id}/enable`).set(auth);
      expect(enabled.status).toBe(200);
      expect(enabled.body).toMatchObject({ id, enabled: true, changed: true, eventsPruned: false });
      expect(enabled.body.requeued).toBeGreaterThanOrEqual(1);
      expect(enabled.body.backfilled).toBe(4);
      expect(enabled.body.requeued + enabled.body.backfilled).toBeLessThanOrEqual(6);

      await until(
        () => `the six events delivered (have ${other.accepted.length})`,
        () => other.accepted.length === 6,
      );
      expect(other.accepted.map((m) => m.id).sort()).toEqual(
        head.map((e) => `evt_${e.cursor}`).sort(),
      );
      for (const d of dates) {
        const versions = other.accepted
          .filter((m) => m.data.date === d)
          .map((m) => BigInt(m.data.version!));
        expect(versions).toHaveLength(3);
        expect([...versions].sort((a, b) => (a < b ? -1 : 1))).toEqual(versions);
      }
      // The receiver has them; their deliveries are recorded a moment later.
      const after = await until('the deliveries recorded', async () => {
        const w = await subscription(id);
        return w.pending === 0 ? w : null;
      });
      expect(after).toMatchObject({
        enabled: true,
        disabledReason: null,
        consecutiveFailures: 0,
        pending: 0,
        failed: 0,
      });

      // Once enabled, new changes are queued to it as before.
      await changeAll();
      await until('the next two events', () => other.accepted.length === 8);

      const again = await request(wh.t.baseUrl).post(`/api/v1/webhooks/${id}/enable`).set(auth);
      expect(again.body).toMatchObject({ changed: false, requeued: 0, backfilled: 0 });
      expect((await request(wh.t.baseUrl).post(`/api/v1/webhooks/${id}/enable`)).status).toBe(401);
      expect(
        (await request(wh.t.baseUrl).post('/api/v1/webhooks/wh_unknown/enable').set(auth)).status,
      ).toBe(404);
      expect(other.rejected).toBe(0);
    } finally {
      await other.close();
    }
  });
});
