/* eslint-disable @typescript-eslint/no-explicit-any -- the cases mutate raw partner JSON at arbitrary depths */
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { Writable } from 'node:stream';
import { AppLogger } from '../src/ops/app-logger';
import { PartnerClient } from '../src/partner/partner-client';
import { PartnerEndpoint } from '../src/partner/partner-endpoint';
import {
  PartnerError,
  PartnerInvalidPayloadError,
  PartnerNetworkError,
  PartnerNotFoundError,
  PartnerRateLimitedError,
  PartnerTimeoutError,
  PartnerUnauthorizedError,
} from '../src/partner/partner-errors';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { simulatedInventory } from '../src/partner/simulator/simulator-data';
import { startPartnerHarness, type PartnerHarness } from './support/partner-harness';

const KEY = 'sk_live_partner_key_7f3a9c1e5b';

/** The client with one key bound, as the limiter would hand it. */
function clientFor(url: string, key = KEY, timeoutMs = 2000) {
  const client = new PartnerClient(
    new HttpService(axios.create()),
    new PartnerEndpoint(url, timeoutMs),
  );
  return {
    fetchInventory: (productId: number, date: string) =>
      client.fetchInventory(productId, date, key),
  };
}

async function failure(p: Promise<unknown>): Promise<PartnerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PartnerError) return err;
    throw err;
  }
  throw new Error('call succeeded');
}

describe('PartnerClient over HTTP against the simulator', () => {
  let sim: PartnerSimulator;
  let url: string;
  let client: ReturnType<typeof clientFor>;

  beforeAll(async () => {
    sim = new PartnerSimulator({ rateLimit: 1000, windowMs: 1000, apiKey: KEY });
    url = await sim.start();
    client = clientFor(url);
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  it('returns product 14 on a Thursday as nine SGD slots with exact decimal prices', async () => {
    const inv = await client.fetchInventory(14, '2025-04-03');
    expect(inv.map((s) => s.startTime)).toEqual([
      '04:00',
      '04:30',
      '05:00',
      '05:30',
      '06:00',
      '06:30',
      '07:00',
      '07:30',
      '08:00',
    ]);
    expect(inv[1].paxAvailability[0]).toMatchObject({
      type: 'ADULT_12~99',
      isPrimary: true,
      finalPrice: '212.14',
      originalPrice: '312.14',
    });
    expect(inv[1].paxAvailability[1]).toMatchObject({ type: 'CHILD_3~11', finalPrice: '43' });
  });

  it('returns product 15 on a Sunday as one 00:00 slot with adult, child and infant', async () => {
    const inv = await client.fetchInventory(15, '2025-04-06');
    expect(inv).toHaveLength(1);
    expect(inv[0].startTime).toBe('00:00');
    expect(
      inv[0].paxAvailability.map((p) => `${p.type} ${p.finalPrice}/${p.originalPrice}`),
    ).toEqual(['ADULT_12~99 341/441', 'CHILD_5~15 137/237', 'INFANT_0~4 0/0']);
  });

  it('returns an empty day as an empty array', async () => {
    await expect(client.fetchInventory(14, '2025-04-04')).resolves.toEqual([]);
  });

  it.each<[string, (s: Record<string, any>[]) => void, string]>([
    [
      'a price sent as a string',
      (s) => (s[3].paxAvailability[0].price.finalPrice = '212.14'),
      '[3].paxAvailability[0].price.finalPrice',
    ],
    ['a missing providerSlotId', (s) => delete s[0].providerSlotId, '[0].providerSlotId'],
    ['remaining as a string', (s) => (s[8].remaining = 'lots'), '[8].remaining'],
    [
      'a missing price',
      (s) => delete s[2].paxAvailability[1].price,
      '[2].paxAvailability[1].price',
    ],
  ])('rejects %s with an invalid-payload error naming the field', async (_n, mutate, field) => {
    const slots = JSON.parse(JSON.stringify(simulatedInventory(14, '2025-04-03', 1, 0)));
    mutate(slots);
    sim.setInventory(14, '2025-04-03', slots);
    const err = await failure(client.fetchInventory(14, '2025-04-03'));
    expect(err).toBeInstanceOf(PartnerInvalidPayloadError);
    expect((err as PartnerInvalidPayloadError).field).toBe(field);
  });

  it('rejects a body that is not JSON as an invalid payload', async () => {
    sim.setFaults({ malformedJson: true });
    const err = await failure(client.fetchInventory(14, '2025-04-03'));
    expect(err).toBeInstanceOf(PartnerInvalidPayloadError);
    expect(err.message).toContain('not valid JSON');
  });

  it('rejects a body that is not UTF-8 instead of storing U+FFFD in its place', async () => {
    sim.setFaults({ invalidUtf8: true });
    const err = await failure(client.fetchInventory(14, '2025-04-03'));
    expect(err).toBeInstanceOf(PartnerInvalidPayloadError);
    expect(err.message).toMatch(
      /^Partner sent an invalid payload at \(body\): body is not valid UTF-8 \(byte 0xff at offset \d+\)$/,
    );
  });

  it('reports the simulator wrong-shape fault as an invalid payload at the price', async () => {
    sim.setFaults({ wrongShape: true });
    const err = await failure(client.fetchInventory(14, '2025-04-03'));
    expect((err as PartnerInvalidPayloadError).field).toBe(
      '[0].paxAvailability[0].price.finalPrice',
    );
  });

  it('turns a 429 into PartnerRateLimitedError with resetAt from rateLimitState.reset', async () => {
    sim.spendBudget(1000);
    const before = Date.now();
    const err = await failure(client.fetchInventory(14, '2025-04-03'));
    expect(err).toBeInstanceOf(PartnerRateLimitedError);
    const resetAt = (err as PartnerRateLimitedError).resetAt!.getTime();
    expect(resetAt).toBeGreaterThan(before);
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('maps 401, 404, 5xx, timeouts and refused connections to typed errors', async () => {
    expect(
      await failure(clientFor(url, 'wrong-key').fetchInventory(14, '2025-04-03')),
    ).toBeInstanceOf(PartnerUnauthorizedError);
    expect(await failure(client.fetchInventory(999_999, '2025-04-03'))).toBeInstanceOf(
      PartnerNotFoundError,
    );
    sim.setFaults({ failNext: 1, serverErrorStatus: 502 });
    expect(await failure(client.fetchInventory(14, '2025-04-03'))).toMatchObject({
      outcome: 'server_error',
      status: 502,
      retryable: true,
    });
    sim.setFaults({ timeoutNext: 1 });
    expect(await failure(client.fetchInventory(14, '2025-04-03'))).toBeInstanceOf(
      PartnerTimeoutError,
    );
    const dead = new PartnerSimulator({ rateLimit: 1, windowMs: 1000, apiKey: KEY });
    const deadUrl = await dead.start();
    await dead.stop();
    expect(await failure(clientFor(deadUrl).fetchInventory(14, '2025-04-03'))).toBeInstanceOf(
      PartnerNetworkError,
    );
  });
});

describe('the partner API key', () => {
  let h: PartnerHarness;
  let lines: string;

  beforeAll(async () => {
    lines = '';
    // No secrets given to the logger: the scrubber must not be what keeps the key out.
    const logger = new AppLogger({
      level: 'trace',
      format: 'json',
      secrets: [],
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines += chunk.toString();
          done();
        },
      }),
    });
    Logger.overrideLogger(logger);
    h = await startPartnerHarness({
      sim: { apiKey: KEY, rateLimit: 50 },
      limiter: { breakerThreshold: 3 },
    });
  });
  afterAll(async () => {
    await h.close();
    Logger.overrideLogger(false);
  });

  it('appears in no log line and no error, whatever the partner answers', async () => {
    const errors: unknown[] = [];
    const call = (d: string) =>
      h.gateway.fetchInventory(14, d, 'today').catch((e: unknown) => errors.push(e));
    await call('2025-04-03');
    h.simulator.setFaults({ failNext: 1 });
    await call('2025-04-06');
    h.simulator.setFaults({ timeoutNext: 1 });
    await call('2025-04-08');
    h.simulator.setFaults({ wrongShape: true });
    await call('2025-04-10');
    h.simulator.setFaults({ wrongShape: false, malformedJson: true });
    await call('2025-04-13');
    h.simulator.setFaults({ malformedJson: false, unauthorized: true });
    await call('2025-04-15');
    h.simulator.setFaults({ unauthorized: false, outage: 'refuse' });
    await h.limiter.drain(1000);
    await h.client.fetchInventory(14, '2025-04-17', KEY).catch((e: unknown) => errors.push(e));

    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(lines).toContain('partner call');
    expect(lines).toContain('partner rejected an API key');
    expect(lines).not.toContain(KEY);
    for (const e of errors) {
      const err = e as Error;
      expect(`${err.message}\n${err.stack}\n${JSON.stringify(err)}`).not.toContain(KEY);
      expect(Object.keys(err)).not.toContain('config');
    }
    expect(JSON.stringify(h.limiter.state())).not.toContain(KEY);
    expect(JSON.stringify(h.limiter.keys())).not.toContain(KEY);
  });
});
