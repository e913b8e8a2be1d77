import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';
import { QUIET_CRONS } from './support/default-crons';

// Debian's chromium package (installed by npm test on Debian as root); no browser is downloaded.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function frameAncestors(csp: string | undefined): string | undefined {
  return csp
    ?.split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith('frame-ancestors'));
}

describe('security headers (helmet) on JSON, errors, /docs and the operator page', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('inv_headers');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_PRODUCT_IDS: '14',
      SYNC_ON_BOOT: 'false',
      ...QUIET_CRONS,
    });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it.each([
    ['a JSON read', '/api/v1/experience/14/dates', 200],
    ['a 400 answer', '/api/v1/experience/abc/dates', 400],
    ['a 404 answer', '/no/such/route', 404],
    ['sync status', '/api/v1/experience/sync/status', 200],
    ['readiness', '/health/ready', 200],
    ['the OpenAPI JSON', '/docs-json', 200],
    ['the OpenAPI UI', '/docs', 200],
    ['the operator page', '/', 200],
  ])('%s (%s) answers nosniff and may not be framed', async (_what, path, status) => {
    const res = await request(t.baseUrl).get(path).redirects(1);
    expect(res.status).toBe(status);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(frameAncestors(res.headers['content-security-policy'])).toBe("frame-ancestors 'none'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('gives JSON a policy that loads nothing, and keeps the page self-only', async () => {
    const json = await request(t.baseUrl).get('/api/v1/experience/14/dates');
    expect(json.headers['content-security-policy']).toContain("default-src 'none'");
    const page = await request(t.baseUrl).get('/');
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  describe('in a browser', () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
        headless: true,
      });
    });

    afterAll(async () => {
      await browser?.close();
    });

    it.each([
      ['/docs renders swagger-ui', '/docs', '.swagger-ui .info .title'],
      ["the operator's page renders", '/', '#heatmap'],
    ])('%s with no Content-Security-Policy violation', async (_what, path, selector) => {
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${t.baseUrl}${path}`);
      await page.waitForSelector(selector, { timeout: 30_000 });
      // Swagger-ui's operations list is built after /docs-json arrives.
      if (path === '/docs') await page.waitForSelector('.opblock', { timeout: 30_000 });
      expect(violations).toEqual([]);
      await page.close();
    });
  });
});
