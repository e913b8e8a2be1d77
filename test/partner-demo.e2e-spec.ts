import { RateLimiterService } from '../src/core/rate-limiter/rate-limiter.service';
import { PartnerEndpoint } from '../src/partner/partner-endpoint';
import { PartnerGateway } from '../src/partner/partner-gateway.service';
import { PartnerSimulatorHost } from '../src/partner/partner-simulator.host';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';

describe('the demo without PARTNER_API_URL', () => {
  let db: TestDatabase;
  let t: TestApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('inv_partner_demo');
  });
  afterAll(async () => {
    await t?.close();
    await db.drop();
  });

  it('starts the built-in simulator on loopback, routes partner calls to it, and stops it on shutdown', async () => {
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false' }, 'demo');
    const endpoint = t.app.get(PartnerEndpoint);
    const host = t.app.get(PartnerSimulatorHost);
    expect(t.config.partner.simulated).toBe(true);
    expect(endpoint.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint.baseUrl).not.toBe(t.config.partner.baseUrl);
    expect(t.config.partner.baseUrl).toBe('https://leap-api.tickete.co'); // config untouched

    const slots = await t.app.get(PartnerGateway).fetchInventory(14, '2025-04-03', 'today');
    expect(slots).toHaveLength(9);
    const sim = host.instance!;
    expect(sim.stats().perProductDate['14:2025-04-03']).toBeGreaterThanOrEqual(1);
    expect(t.app.get(RateLimiterService).state().spentInWindow).toBeGreaterThanOrEqual(1);

    await t.close();
    t = undefined;
    expect(host.instance).toBeNull();
    await expect(fetch(`${endpoint.baseUrl}/__sim/stats`)).rejects.toThrow();
  });

  it('talks to the configured partner URL when one is given', async () => {
    const app = await startTestApp(
      { DATABASE_URL: db.url, SYNC_ON_BOOT: 'false', PARTNER_API_URL: 'http://127.0.0.1:9' },
      'demo',
    );
    try {
      expect(app.app.get(PartnerEndpoint).baseUrl).toBe('http://127.0.0.1:9');
      expect(app.app.get(PartnerSimulatorHost).instance).toBeNull();
    } finally {
      await app.close();
    }
  });
});
