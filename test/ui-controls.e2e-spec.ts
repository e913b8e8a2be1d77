import type { Browser } from 'playwright-core';
import request from 'supertest';
import {
  ADMIN_TOKEN,
  control,
  launchBrowser,
  useOperatorPage,
  VIEWPORT,
  syncStatus,
} from './support/operator-page';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

describe("operator's page controls with ADMIN_TOKEN", () => {
  const ui = useOperatorPage('inv_uictl');

  it('asks for the admin token before a control action and keeps it out of the URL', async () => {
    const status = await request(ui.t.baseUrl).get('/api/v1/experience/sync/status');
    expect(status.body.control).toEqual({ tokenRequired: true });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.click('#run-btn');
    await ui.page.waitForSelector('#token-form:not([hidden])');
    expect(await ui.page.locator('#token-input').getAttribute('type')).toBe('password');
    await ui.page.click('#token-cancel');
    expect(await ui.page.locator('#token-form').isHidden()).toBe(true);
    expect(ui.page.url()).not.toContain('token');
    expect(await ui.page.evaluate<number>('sessionStorage.length')).toBe(0);
  });

  it('says what is missing when the token prompt is submitted empty', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#sync-state.badge-ok');
    await ui.page.click('#pause-btn');
    await ui.page.waitForSelector('#token-form:not([hidden])');
    await ui.page.press('#token-input', 'Enter');
    await ui.page.waitForSelector('#token-error:not([hidden])');
    expect(await ui.page.locator('#token-error').innerText()).toBe(
      'Enter the admin token (the ADMIN_TOKEN the service was started with).',
    );
    expect(await ui.page.locator('#token-input').getAttribute('aria-invalid')).toBe('true');
    expect((await syncStatus(ui.t.baseUrl)).paused).toBe(false);
    expect(await ui.page.evaluate<number>('sessionStorage.length')).toBe(0);
  });

  it('pause with a wrong token shows the 401 and changes nothing', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#sync-state.badge-ok');
    await control(ui.page, '#pause-btn', 'not-the-admin-token-at-all');
    await ui.page.waitForSelector('#action-message.message-error');
    const message = await ui.page.locator('#action-message').innerText();
    expect(message).toContain('admin token was rejected');
    expect(message).toContain('401 Unauthorized');
    expect(message).toContain('Nothing was changed');
    expect((await syncStatus(ui.t.baseUrl)).paused).toBe(false);
    expect(await ui.page.locator('#sync-state').innerText()).toBe('Syncing');
    // The rejected token is not kept: the prompt is open again for the right one.
    expect(await ui.page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(await ui.page.locator('#token-form').isVisible()).toBe(true);
  });

  it('pause with the right token flips the state shown and in GET /sync/status; resume asks no token again', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#sync-state.badge-ok');
    const authHeaders: (string | undefined)[] = [];
    ui.page.on('request', (r) => {
      if (r.method() === 'POST') authHeaders.push(r.headers()['authorization']);
    });
    await control(ui.page, '#pause-btn', ADMIN_TOKEN);
    await ui.page.waitForSelector('#sync-state.badge-paused');
    expect(await ui.page.locator('#sync-state').innerText()).toMatch(
      /^Paused since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\S* \(.+ ago\) by /,
    );
    expect(await ui.page.locator('#action-message').innerText()).toBe('Sync paused.');
    expect((await syncStatus(ui.t.baseUrl)).paused).toBe(true);
    expect(await ui.page.locator('#pause-btn').isDisabled()).toBe(true);

    await control(ui.page, '#resume-btn');
    await ui.page.waitForSelector('#sync-state.badge-ok');
    expect((await syncStatus(ui.t.baseUrl)).paused).toBe(false);
    expect(authHeaders).toEqual([`Bearer ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}`]);
    expect(ui.page.url()).not.toContain(ADMIN_TOKEN);
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
    const page = await browser.newPage({ viewport: VIEWPORT });
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

  it('shows the webhooks without asking for a token, from the first reading on', async () => {
    const page = await browser.newPage({ viewport: VIEWPORT });
    try {
      // Every text the panel shows, from before the page's own scripts run.
      await page.addInitScript(`
        window.__webhookTexts = [];
        new MutationObserver(() => {
          const box = document.getElementById('webhooks');
          const text = box ? box.textContent : null;
          const seen = window.__webhookTexts;
          if (text && seen[seen.length - 1] !== text) seen.push(text);
        }).observe(document, { childList: true, subtree: true, characterData: true });`);
      await page.goto(t.baseUrl);
      await page.waitForSelector('#webhooks >> text=No webhook subscriptions.');
      const texts = await page.evaluate<string[]>('window.__webhookTexts');
      expect(texts.filter((x) => x.includes('admin token'))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
