import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import {
  ADMIN_TOKEN,
  control,
  launchBrowser,
  startOperatorPage,
  syncStatus,
  type OperatorPageFixture,
} from './support/operator-page';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

describe("operator's page controls with ADMIN_TOKEN", () => {
  let fixture: OperatorPageFixture;
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    fixture = await startOperatorPage('inv_uictl');
    ({ t, browser } = fixture);
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterEach(async () => {
    await page?.close();
  });

  it('asks for the admin token before a control action and keeps it out of the URL', async () => {
    const status = await request(t.baseUrl).get('/api/v1/experience/sync/status');
    expect(status.body.control).toEqual({ tokenRequired: true });
    await page.goto(t.baseUrl);
    await page.click('#run-btn');
    await page.waitForSelector('#token-form:not([hidden])');
    expect(await page.locator('#token-input').getAttribute('type')).toBe('password');
    await page.click('#token-cancel');
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
  });

  it('says what is missing when the token prompt is submitted empty', async () => {
    await page.goto(t.baseUrl);
    await page.waitForSelector('#sync-state.badge-ok');
    await page.click('#pause-btn');
    await page.waitForSelector('#token-form:not([hidden])');
    await page.press('#token-input', 'Enter');
    await page.waitForSelector('#token-error:not([hidden])');
    expect(await page.locator('#token-error').innerText()).toBe(
      'Enter the admin token (the ADMIN_TOKEN the service was started with).',
    );
    expect(await page.locator('#token-input').getAttribute('aria-invalid')).toBe('true');
    expect((await syncStatus(t.baseUrl)).paused).toBe(false);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
  });

  it('pause with a wrong token shows the 401 and changes nothing', async () => {
    await page.goto(t.baseUrl);
    await page.waitForSelector('#sync-state.badge-ok');
    await control(page, '#pause-btn', 'not-the-admin-token-at-all');
    await page.waitForSelector('#action-message.message-error');
    const message = await page.locator('#action-message').innerText();
    expect(message).toContain('admin token was rejected');
    expect(message).toContain('401 Unauthorized');
    expect(message).toContain('Nothing was changed');
    expect((await syncStatus(t.baseUrl)).paused).toBe(false);
    expect(await page.locator('#sync-state').innerText()).toBe('Syncing');
    // The rejected token is not kept: the prompt is open again for the right one.
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(await page.locator('#token-form').isVisible()).toBe(true);
  });

  it('pause with the right token flips the state shown and in GET /sync/status; resume asks no token again', async () => {
    await page.goto(t.baseUrl);
    await page.waitForSelector('#sync-state.badge-ok');
    const authHeaders: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') authHeaders.push(r.headers()['authorization']);
    });
    await control(page, '#pause-btn', ADMIN_TOKEN);
    await page.waitForSelector('#sync-state.badge-paused');
    expect(await page.locator('#sync-state').innerText()).toMatch(
      /^Paused since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\S* \(.+ ago\) by /,
    );
    expect(await page.locator('#action-message').innerText()).toBe('Sync paused.');
    expect((await syncStatus(t.baseUrl)).paused).toBe(true);
    expect(await page.locator('#pause-btn').isDisabled()).toBe(true);

    await control(page, '#resume-btn');
    await page.waitForSelector('#sync-state.badge-ok');
    expect((await syncStatus(t.baseUrl)).paused).toBe(false);
    expect(authHeaders).toEqual([`Bearer ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}`]);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
  });
});

describe("operator's page in the demo without ADMIN_TOKEN", () => {
  let db: TestDatabase;
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase('inv_uiopen');
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false' }, 'demo');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await db?.drop();
  });

  it('pauses and resumes without asking for a token, and says none is needed', async () => {
    const status = await request(t.baseUrl).get('/api/v1/experience/sync/status');
    expect(status.body.control).toEqual({ tokenRequired: false });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const authHeaders: (string | undefined)[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST') authHeaders.push(r.headers()['authorization']);
      });
      await page.goto(t.baseUrl);
      await page.waitForSelector('#sync-state.badge-ok');
      expect(await page.locator('#token-btn').isHidden()).toBe(true);
      expect(await page.locator('#control-note').innerText()).toContain('no admin token');
      await page.click('#pause-btn');
      await page.waitForSelector('#sync-state.badge-paused');
      expect(await page.locator('#token-form').isHidden()).toBe(true);
      expect((await syncStatus(t.baseUrl)).paused).toBe(true);
      await page.click('#resume-btn');
      await page.waitForSelector('#sync-state.badge-ok');
      expect(authHeaders).toEqual([undefined, undefined]);
    } finally {
      await page.close();
    }
  });
});
