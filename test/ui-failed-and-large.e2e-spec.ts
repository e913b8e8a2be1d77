import type { Browser } from 'playwright-core';
import request from 'supertest';
import {
  ADMIN_TOKEN,
  hoverCell,
  launchBrowser,
  legendCount,
  useOperatorPage,
  VIEWPORT,
  type CanvasLayout,
} from './support/operator-page';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

describe("operator's page: a partner answering garbage", () => {
  const ui = useOperatorPage('inv_uifail');

  const runToday = async (): Promise<void> => {
    const run = await request(ui.t.baseUrl)
      .post('/api/v1/experience/sync/run')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ window: 'quarter-hourly' });
    expect(run.status).toBe(202);
  };

  it('marks a date failed with the partner error when the attempt after a success fails', async () => {
    try {
      await runToday();
      await ui.page.goto(ui.t.baseUrl);
      await ui.page.waitForSelector(
        '#legend li[data-state="fresh"] .legend-count[data-count="2"]',
        {
          timeout: 30_000,
        },
      );
      ui.simulator.setFaults({ malformedJson: true });
      await runToday();
      await ui.page.waitForSelector(
        '#legend li[data-state="failed"] .legend-count[data-count="2"]',
        {
          timeout: 30_000,
        },
      );
      await hoverCell(ui.page, 0, 0);
      const tip = await ui.page.locator('#tooltip').innerText();
      expect(tip).toContain('failed: last attempt failed after the last success');
      expect(tip).toMatch(/last success: .+ ago\)/);
      expect(tip).toContain('Partner sent an invalid payload');

      const matrix = await request(ui.t.baseUrl).get('/api/v1/experience/sync/freshness');
      expect(matrix.body.products[0].states[0]).toBe('x');
      expect(matrix.body.products[0].errors[0]).toMatchObject({ day: 0 });
      expect(matrix.body.products[0].ageSeconds[0]).not.toBeNull();
    } finally {
      ui.simulator.setFaults({ malformedJson: false });
    }
  });
});

describe("operator's page at 450 products × 60 dates", () => {
  let db: TestDatabase;
  let t: TestApp;
  let browser: Browser;
  const productIds = Array.from({ length: 450 }, (_, i) => 1000 + i);

  beforeAll(async () => {
    db = await createTestDatabase('inv_ui450');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_PRODUCT_IDS: productIds.join(','),
      SYNC_ON_BOOT: 'false',
      ADMIN_TOKEN,
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await db?.drop();
  });

  it('keeps the freshness matrix compact and draws it on one canvas, not 27,000 elements', async () => {
    const res = await request(t.baseUrl).get('/api/v1/experience/sync/freshness');
    expect(res.status).toBe(200);
    expect(res.body.products).toHaveLength(450);
    expect(res.text.length).toBeLessThan(400_000);

    const page = await browser.newPage({ viewport: VIEWPORT });
    try {
      await page.goto(t.baseUrl);
      await page.waitForSelector('#heatmap[data-generated-at]');
      expect(await legendCount(page, 'never')).toBe(450 * 60);
      const elements = await page.evaluate<number>("document.getElementsByTagName('*').length");
      expect(elements).toBeLessThan(500);
      // 450 products need more calls than 30/min allow: the page says so.
      await page.waitForSelector('#over-capacity');
      expect(await page.locator('#over-capacity').innerText()).toMatch(
        /Over capacity: 450 products/,
      );
      const layout = JSON.parse(
        (await page.locator('#heatmap').getAttribute('data-layout')) ?? '{}',
      ) as CanvasLayout;
      const box = await page.locator('#heatmap').boundingBox();
      expect(box?.height).toBe(layout.headerH + 450 * layout.cellH);
    } finally {
      await page.close();
    }
  });
});

describe("operator's page at 5,000 products: the heatmap a page at a time", () => {
  let db: TestDatabase;
  let t: TestApp;
  let browser: Browser;
  const productIds = Array.from({ length: 5000 }, (_, i) => 1000 + i);

  beforeAll(async () => {
    db = await createTestDatabase('inv_ui5000');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_PRODUCT_IDS: productIds.join(','),
      SYNC_ON_BOOT: 'false',
      ADMIN_TOKEN,
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await db?.drop();
  });

  it('draws 500 products, counts all 300,000 cells in the legend and pages with Next and Previous', async () => {
    const page = await browser.newPage({ viewport: VIEWPORT });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(t.baseUrl);
      await page.waitForSelector('#heatmap[data-generated-at]');
      expect(await legendCount(page, 'never')).toBe(5000 * 60);
      const shown = async (): Promise<number[]> =>
        ((await page.locator('#heatmap').getAttribute('data-products')) ?? '')
          .split(',')
          .map(Number);
      expect(await shown()).toEqual(productIds.slice(0, 500));
      expect(await page.locator('#page-label').innerText()).toBe('products 1–500 of 5000');
      expect(await page.locator('#page-prev').isDisabled()).toBe(true);
      expect(await page.locator('#heatmap').getAttribute('aria-label')).toContain(
        '500 products × 60 dates (1–500 of 5000 products)',
      );

      await page.click('#page-next');
      await page.waitForSelector('#heatmap[data-products^="1500,"]');
      expect(await page.locator('#page-label').innerText()).toBe('products 501–1000 of 5000');
      expect(await legendCount(page, 'never')).toBe(5000 * 60);

      for (let i = 0; i < 8; i++) await page.click('#page-next');
      await page.waitForSelector('#heatmap[data-products^="5500,"]');
      expect(await page.locator('#page-next').isDisabled()).toBe(true);
      expect((await shown()).at(-1)).toBe(5999);

      await page.click('#page-prev');
      await page.waitForSelector('#heatmap[data-products^="5000,"]');
      const elements = await page.evaluate<number>("document.getElementsByTagName('*').length");
      expect(elements).toBeLessThan(500);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
