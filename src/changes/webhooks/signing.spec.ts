import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { newSecret, signedHeaders } from './signing';

/** The specification's formula, written apart from the library. */
function specSignature(secret: string, id: string, ts: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

describe('webhook signing', () => {
  it('signs as the specification says and verifies with the library', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'availability.changed', data: { productId: 14 } });
    const h = signedHeaders('evt_1', new Date(), body, [secret]);
    expect(h['webhook-signature']).toBe(
      specSignature(secret, 'evt_1', h['webhook-timestamp'], body),
    );
    expect(new Webhook(secret).verify(body, h)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(body, h)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, h)).toThrow();
  });

  it('signs with every secret during a rotation: either one verifies', () => {
    const [next, old] = [newSecret(), newSecret()];
    const body = '{}';
    const h = signedHeaders('evt_2', new Date(), body, [next, old]);
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(next).verify(body, h)).toEqual({});
    expect(new Webhook(old).verify(body, h)).toEqual({});
  });

  it('is refused by the library when its timestamp is too old (a replay)', () => {
    const secret = newSecret();
    const h = signedHeaders('evt_3', new Date(Date.now() - 10 * 60_000), '{}', [secret]);
    expect(() => new Webhook(secret).verify('{}', h)).toThrow(/timestamp/i);
  });
});
