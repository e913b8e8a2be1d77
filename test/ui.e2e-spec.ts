import { mkdirSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, todayIn, toDbDate } from '../src/inventory/calendar';
import {
  ADMIN_TOKEN,
  ARTIFACTS,
  control,
  hoverCell,
  ISO_LOCAL_WITH_RELATIVE,
  legendCount,
  useOperatorPage,
  waitForRunToFinish,
} from './support/operator-page';

// The operator's page in headless Chromium against the running service and the partner
// simulator. Serving and modules: ui-modules; budget: ui-budget; controls: ui-controls.
describe("operator's page in headless Chromium", () => {
  const ui = useOperatorPage('inv_ui');
  let today: string;

  beforeAll(() => {
    today = todayIn(ui.t.config.sync.timeZone);
  });

  it('documents the freshness endpoint in the OpenAPI document', async () => {
    const res = await request(ui.t.baseUrl).get('/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toContain('/api/v1/experience/sync/freshness');
  });

  it('draws one heatmap row per configured product, all never synced on an empty database', async () => {
    const errors: string[] = [];
    ui.page.on('pageerror', (e) => errors.push(e.message));
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#heatmap[data-products="14,15"]');
    expect(await ui.page.locator('#load-error').innerText()).not.toContain('Freshness');
    expect(await legendCount(ui.page, 'never')).toBe(120);
    expect(await legendCount(ui.page, 'fresh')).toBe(0);
    expect(await ui.page.locator('#heatmap').getAttribute('aria-label')).toContain(
      '2 products × 60 dates',
    );
    // Pages share one reading of the matrix: the page says when it was made.
    expect(await ui.page.locator('#heatmap-read').innerText()).toMatch(/^Read at \S/);
    expect(errors).toEqual([]);
  });

  it('shows fresh and failed cells from product_date_syncs with a tooltip of success, slots and error', async () => {
    const prisma = ui.t.app.get(PrismaService);
    await prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }], skipDuplicates: true });
    const now = Date.now();
    await prisma.productDateSync.createMany({
      data: [
        {
          productId: 14,
          date: toDbDate(today),
          lastAttemptAt: new Date(now - 60_000),
          lastSuccessAt: new Date(now - 60_000),
          lastOutcome: 'changed',
          slotCount: 9,
        },
        {
          productId: 15,
          date: toDbDate(addDays(today, 2)),
          lastAttemptAt: new Date(now - 30_000),
          // Within its horizon's 4 h floor: the value rule leaves it alone while the page looks.
          lastSuccessAt: new Date(now - 3 * 3600_000),
          lastOutcome: 'failed',
          lastError: 'partner answered 503 Service Unavailable',
          slotCount: 1,
        },
      ],
    });
    try {
      await ui.page.goto(ui.t.baseUrl);
      // Rows written behind the service's back: the endpoint may answer the reading it shares
      // (up to 10 s old) first; the page's next refresh shows them.
      await ui.page.waitForSelector(
        '#legend li[data-state="fresh"] .legend-count[data-count="1"]',
        { timeout: 30_000 },
      );
      await ui.page.waitForSelector('#heatmap[data-products="14,15"]');
      expect(await legendCount(ui.page, 'failed')).toBe(1);
      expect(await legendCount(ui.page, 'never')).toBe(118);

      await hoverCell(ui.page, 0, 0);
      const tip = ui.page.locator('#tooltip');
      await tip.waitFor({ state: 'visible' });
      expect(await tip.innerText()).toMatch(/Product 14 · \S+ \(\+0\)/);
      expect(await tip.innerText()).toContain('fresh');
      expect(await tip.innerText()).toContain('slots: 9');
      const age = /last success: .+\((\d+) s ago\)/.exec(await tip.innerText());
      expect(Number(age?.[1])).toBeGreaterThanOrEqual(60);
      expect(Number(age?.[1])).toBeLessThan(120);

      await hoverCell(ui.page, 1, 2);
      expect(await tip.innerText()).toContain(`Product 15 · ${addDays(today, 2)} (+2)`);
      expect(await tip.innerText()).toContain('failed');
      expect(await tip.innerText()).toContain('partner answered 503 Service Unavailable');
      expect(await tip.innerText()).toContain('slots: 1');
    } finally {
      await prisma.productDateSync.deleteMany({});
    }
  });

  it('reaches the control buttons and the heatmap with the keyboard', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#heatmap[data-products="14,15"]');
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await ui.page.keyboard.press('Tab');
      reached.push(
        await ui.page.evaluate<string>("document.activeElement ? document.activeElement.id : ''"),
      );
    }
    expect(reached).toEqual(
      expect.arrayContaining(['pause-btn', 'run-window', 'run-btn', 'token-btn', 'heatmap']),
    );
    // Arrow keys move the focused cell and its tooltip follows.
    await ui.page.focus('#heatmap');
    await ui.page.keyboard.press('ArrowDown');
    await ui.page.keyboard.press('ArrowRight');
    expect(await ui.page.locator('#tooltip').innerText()).toContain(
      `Product 15 · ${addDays(today, 1)} (+1)`,
    );
  });

  it('fits a phone-width screen without the page itself scrolling sideways', async () => {
    const phone = await ui.browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await phone.goto(ui.t.baseUrl);
      await phone.waitForSelector('#heatmap[data-products="14,15"]');
      const overflow = await phone.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await phone.locator('#pause-btn').isVisible()).toBe(true);
    } finally {
      await phone.close();
    }
  });

  it('shows the status: syncing, the partner budget, the capacity plan and the four windows', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#sync-state.badge-ok');
    expect(await ui.page.locator('#sync-state').innerText()).toBe('Syncing');
    expect(await ui.page.locator('#budget-calls').innerText()).toMatch(
      /^\d+ \/ 20 calls in the last 1 s$/,
    );
    expect(await ui.page.locator('#budget').innerText()).toMatch(/Circuit breaker\s+closed/);
    // 20 calls per second: 1,728,000 a day, grouped in thousands.
    expect(await ui.page.locator('#capacity').innerText()).toMatch(/ of 1,728,000 calls\/day/);
    expect(await ui.page.locator('#over-capacity').count()).toBe(0);
    const windows = await ui.page.locator('#windows tbody tr td:first-child').allInnerTexts();
    expect([...windows].sort()).toEqual(['daily', 'extended', 'four-hourly', 'quarter-hourly']);
    expect(await ui.page.locator('#load-error').isHidden()).toBe(true);
  });

  it("shows fresh cells for today after 'Run now' of the quarter-hourly window", async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#heatmap[data-products="14,15"]');
    // The rows an earlier test wrote and removed behind the service's back may still be in the
    // reading the endpoint shares (up to 10 s): the page's next refresh drops them.
    await ui.page.waitForSelector('#legend li[data-state="fresh"] .legend-count[data-count="0"]', {
      timeout: 30_000,
    });
    await ui.page.selectOption('#run-window', 'quarter-hourly');
    await control(ui.page, '#run-btn', ADMIN_TOKEN);
    await ui.page.waitForSelector('#action-message.message-ok');
    expect(await ui.page.locator('#action-message').innerText()).toMatch(
      /Run #\d+ started for the quarter-hourly window/,
    );
    // The page polls; both products' today cells turn fresh once the run has stored them.
    await ui.page.waitForSelector('#legend li[data-state="fresh"] .legend-count[data-count="2"]', {
      timeout: 30_000,
    });
    // The tooltip's slot count is what the read API now serves for that product-date.
    const slots = await request(ui.t.baseUrl).get(`/api/v1/experience/14?date=${today}`);
    expect(slots.status).toBe(200);
    await hoverCell(ui.page, 0, 0);
    expect(await ui.page.locator('#tooltip').innerText()).toMatch(
      new RegExp(`fresh[\\s\\S]*slots: ${(slots.body as unknown[]).length}\n`),
    );
    expect(ui.simulator.stats().perProductDate[`14:${today}`]).toBeGreaterThanOrEqual(1);
    await ui.page.waitForSelector('#runs tbody tr');
    expect(await ui.page.locator('#runs tbody tr').first().innerText()).toContain('quarter-hourly');
    // One date format on the page: ISO-like local time with its zone, plus a relative time.
    const started = await ui.page.locator('#runs tbody tr:first-child td:nth-child(4)').innerText();
    expect(started).toMatch(ISO_LOCAL_WITH_RELATIVE);
    // The status poll (every 5 s) shows the finished run in the windows table too.
    await ui.page.waitForSelector(
      '#windows tbody tr:has-text("quarter-hourly") .badge:not(.badge-running)',
      { timeout: 30_000 },
    );
    const lastRun = await ui.page
      .locator('#windows tbody tr', { hasText: 'quarter-hourly' })
      .locator('td:nth-child(5)')
      .innerText();
    expect(lastRun).toMatch(ISO_LOCAL_WITH_RELATIVE);
    expect(await ui.page.locator('#updated').innerText()).toMatch(
      /^updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC([+-]\d{1,2}(:\d{2})?)?$/,
    );
  });

  it('saves a screenshot of the page as a test artifact', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // A daily run (today..+29) first, so the picture shows a realistic mix of states.
    const run = await request(ui.t.baseUrl)
      .post('/api/v1/experience/sync/run')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ window: 'daily' });
    expect(run.status).toBe(202);
    await waitForRunToFinish(ui.t.baseUrl, (run.body as { runId: number }).runId);
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#runs tbody tr:first-child .badge:not(.badge-running)');
    await ui.page.waitForSelector('#heatmap[data-generated-at]');
    expect(await legendCount(ui.page, 'fresh')).toBeGreaterThanOrEqual(2);
    const file = path.join(ARTIFACTS, 'operator-page.png');
    const png = await ui.page.screenshot({ path: file, fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  }, 120_000);
});
