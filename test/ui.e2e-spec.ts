import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { PrismaService } from '../src/core/prisma.service';
import { addDays, todayIn, toDbDate } from '../src/inventory/calendar';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { UI_ASSET_FILES } from '../src/ui/ui-assets';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';

// Debian's chromium package (installed by .ci/run); no browser is downloaded.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = path.resolve(__dirname, '..', 'test-artifacts');
const ADMIN_TOKEN = 'ui-test-admin-token-0123456789';
const PARTNER_KEY = 'ui-test-partner-key';
/** e.g. `2026-12-01 12:00:00 UTC (42 s ago)` or `2026-12-01 17:30:00 UTC+5:30 (in 3 min)`. */
const ISO_LOCAL_WITH_RELATIVE =
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC([+-]\d{1,2}(:\d{2})?)? \((in .+|.+ ago)\)$/;
const UI_SCRIPTS = Object.keys(UI_ASSET_FILES).filter((name) => name.endsWith('.js'));
const STATUS_PATH = '/api/v1/experience/sync/status';

interface CanvasLayout {
  labelW: number;
  headerH: number;
  cellW: number;
  cellH: number;
}

async function launchBrowser(): Promise<Browser> {
  // launch() gives every run a new, empty profile directory.
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** The number shown next to a state in the legend, once the freshness matrix has loaded. */
async function legendCount(page: Page, state: string): Promise<number> {
  const text = await page
    .locator(`#legend li[data-state="${state}"] .legend-count`)
    .getAttribute('data-count');
  return Number(text);
}

/** The aggregate of a fake two-key limiter: the sums over its keys. */
const LIMITER_TOTALS = {
  limit: 60,
  windowMs: 60_000,
  spentInWindow: 29,
  running: 1,
  pausedUntil: null,
  breaker: 'closed',
};
const KEY_DEFAULTS = {
  limit: 30,
  windowMs: 60_000,
  spentInWindow: 0,
  running: 0,
  heldUntil: null,
  hold: null,
  breaker: 'closed',
  breakerRetryAt: null,
  rejectedStatus: null,
};

/** Answers the page's status polls with the real status, changed by `change`. */
async function serveStatus(
  page: Page,
  change: (body: Record<string, unknown>) => void,
): Promise<void> {
  await page.route(`**${STATUS_PATH}`, async (route) => {
    const response = await route.fetch();
    const body = (await response.json()) as Record<string, unknown>;
    change(body);
    await route.fulfill({ response, json: body });
  });
}

/**
 * Calls an export of one of the page's modules inside the page (they are browser ES modules, so
 * they are tested where they run) and returns its JSON-serialisable result.
 */
async function callModule<T>(
  page: Page,
  module: string,
  name: string,
  args: unknown[],
): Promise<T> {
  return page.evaluate<T>(
    `import('/ui/${module}').then((m) => m[${JSON.stringify(name)}](...${JSON.stringify(args)}))`,
  );
}

async function syncStatus(baseUrl: string): Promise<{ paused: boolean }> {
  const res = await request(baseUrl).get('/api/v1/experience/sync/status');
  expect(res.status).toBe(200);
  return res.body as { paused: boolean };
}

/** Polls GET /sync/status until the run has an end time (the machine may be busy: generous deadline). */
async function waitForRunToFinish(
  baseUrl: string,
  runId: number,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(baseUrl).get('/api/v1/experience/sync/status');
    const runs = (res.body as { recentRuns?: { id: number; finishedAt: string | null }[] })
      .recentRuns;
    if (runs?.some((r) => r.id === runId && r.finishedAt !== null)) return;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Clicks a control button and answers the token prompt when the page asks for one. */
async function control(page: Page, button: string, token?: string): Promise<void> {
  await page.click(button);
  if (token !== undefined) {
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token-input', token);
    await page.press('#token-input', 'Enter');
  }
}

async function hoverCell(page: Page, row: number, col: number): Promise<void> {
  const canvas = page.locator('#heatmap');
  const layout = JSON.parse((await canvas.getAttribute('data-layout')) ?? '{}') as CanvasLayout;
  await canvas.hover({
    position: {
      x: layout.labelW + col * layout.cellW + layout.cellW / 2,
      y: layout.headerH + row * layout.cellH + layout.cellH / 2,
    },
  });
}

describe("operator's page in headless Chromium", () => {
  let db: TestDatabase;
  let simulator: PartnerSimulator;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let today: string;

  beforeAll(async () => {
    db = await createTestDatabase('inv_ui');
    simulator = new PartnerSimulator({ rateLimit: 20, windowMs: 1000, apiKey: PARTNER_KEY });
    const partnerUrl = await simulator.start();
    t = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: partnerUrl,
      PARTNER_API_KEY: PARTNER_KEY,
      PARTNER_RATE_LIMIT: '20',
      PARTNER_RATE_WINDOW_MS: '1000',
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'false',
      ADMIN_TOKEN,
    });
    today = todayIn(t.config.sync.timeZone);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await simulator?.stop();
    await db?.drop();
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterEach(async () => {
    await page?.close();
  });

  it('serves GET / with a Content-Security-Policy that allows only its own origin', async () => {
    const res = await request(t.baseUrl).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // No inline script and nothing from another origin.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(res.text).toContain('<script type="module" src="/ui/main.js"></script>');
    // Module scripts are refused unless served as JavaScript; caching as for the page.
    for (const name of UI_SCRIPTS) {
      const js = await request(t.baseUrl).get(`/ui/${name}`);
      expect([name, js.status, js.headers['content-type']]).toEqual([
        name,
        200,
        'text/javascript; charset=utf-8',
      ]);
      expect(js.headers['cache-control']).toBe('no-cache');
      expect(js.headers['x-content-type-options']).toBe('nosniff');
    }
    const css = await request(t.baseUrl).get('/ui/app.css');
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const unknown = await request(t.baseUrl).get('/ui/app.js');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect((await request(t.baseUrl).get('/ui/index.html')).status).toBe(404);
  });

  it('loads every script module under that policy, without a console error', async () => {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    const loaded = new Map<string, number>();
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/ui/')) loaded.set(url.pathname.slice(4), r.status());
    });
    await page.goto(t.baseUrl);
    await page.waitForSelector('#budget-keys tbody tr');
    await page.waitForSelector('#heatmap[data-generated-at]');
    expect(Object.fromEntries(loaded)).toEqual(
      Object.fromEntries(['app.css', ...UI_SCRIPTS].map((name) => [name, 200])),
    );
    expect(problems).toEqual([]);
  });

  it.each<[string, string, [unknown[], unknown][]]>([
    [
      'format.js',
      'duration',
      [
        [[null], '—'],
        [[42.4], '42 s'],
        [[-89], '89 s'],
        [[90], '2 min'],
        [[5399], '90 min'],
        [[5400], '1.5 h'],
        [[172_800], '2.0 days'],
      ],
    ],
    [
      'format.js',
      'count',
      [
        [[43_200], '43,200'],
        [[1_728_000.4], '1,728,000'],
        [[null], '—'],
      ],
    ],
    [
      'format.js',
      'errorText',
      [
        [[401, { error: 'Unauthorized', message: 'bad token' }], '401 Unauthorized: bad token'],
        [[400, { error: 'Bad Request', message: ['a', 'b'] }], '400 Bad Request: a; b'],
        [[502, null], '502'],
      ],
    ],
    [
      'budget.js',
      'queuedTotal',
      [
        [[5], 5],
        [[{ today: 2, week: 1, later: 4 }], 7],
        [[undefined], 0],
      ],
    ],
    [
      'budget.js',
      'stateText',
      [
        [[{ state: 'active' }], 'active'],
        [[{ state: 'breaker_open' }], 'breaker open'],
        [[{ state: 'rejected', rejectedStatus: 403 }], 'rejected (403)'],
      ],
    ],
  ])('%s %s, table-tested in the page', async (module, name, cases) => {
    await page.goto(t.baseUrl);
    for (const [args, expected] of cases) {
      expect([args, await callModule(page, module, name, args)]).toEqual([args, expected]);
    }
  });

  it.each([
    ['UTC', '2026-12-01 12:00:00 UTC', '2026-12-01 12:00:45 UTC', '2026-12-01 10:00:00 UTC'],
    [
      'Asia/Kolkata',
      '2026-12-01 17:30:00 UTC+5:30',
      '2026-12-01 17:30:45 UTC+5:30',
      '2026-12-01 15:30:00 UTC+5:30',
    ],
    [
      'America/New_York',
      '2026-12-01 07:00:00 UTC-5',
      '2026-12-01 07:00:45 UTC-5',
      '2026-12-01 05:00:00 UTC-5',
    ],
  ])(
    'writes times as local ISO-like with the zone in %s',
    async (timezoneId, noon, soon, before) => {
      const local = await browser.newPage({ timezoneId });
      try {
        await local.goto(t.baseUrl);
        const at = Date.UTC(2026, 11, 1, 12, 0, 0);
        const iso = (ms: number): string => new Date(at + ms).toISOString();
        expect(await callModule(local, 'format.js', 'stamp', [at])).toBe(noon);
        expect(await callModule(local, 'format.js', 'when', [iso(45_000), at])).toBe(
          `${soon} (in 45 s)`,
        );
        expect(await callModule(local, 'format.js', 'when', [iso(-7_200_000), at])).toBe(
          `${before} (2.0 h ago)`,
        );
      } finally {
        await local.close();
      }
    },
  );

  it.each([
    [{ breaker: 'closed', pausedUntil: null }, 'active'],
    [{ breaker: 'half-open', pausedUntil: null }, 'probing'],
    [{ breaker: 'closed', pausedUntil: '2026-12-01T12:00:00.000Z' }, 'held'],
    [{ breaker: 'open', pausedUntil: '2026-12-01T12:00:00.000Z' }, 'breaker_open'],
  ])('derives the single key row of a status without keys: %j is %s', async (limiter, state) => {
    await page.goto(t.baseUrl);
    const rows = await callModule<{ name: string; state: string; heldUntil: string | null }[]>(
      page,
      'budget.js',
      'budgetRows',
      [{ limit: 30, windowMs: 60_000, spentInWindow: 3, running: 0, queued: {}, ...limiter }],
    );
    expect(rows).toEqual([
      expect.objectContaining({ name: 'partner key', state, heldUntil: limiter.pausedUntil }),
    ]);
  });

  it('documents the freshness endpoint in the OpenAPI document', async () => {
    const res = await request(t.baseUrl).get('/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toContain('/api/v1/experience/sync/freshness');
  });

  it('draws one heatmap row per configured product, all never synced on an empty database', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(t.baseUrl);
    await page.waitForSelector('#heatmap[data-products="14,15"]');
    expect(await page.locator('#load-error').innerText()).not.toContain('Freshness');
    expect(await legendCount(page, 'never')).toBe(120);
    expect(await legendCount(page, 'fresh')).toBe(0);
    expect(await page.locator('#heatmap').getAttribute('aria-label')).toContain(
      '2 products × 60 dates',
    );
    expect(errors).toEqual([]);
  });

  it('shows fresh and failed cells from product_date_syncs with a tooltip of success, slots and error', async () => {
    const prisma = t.app.get(PrismaService);
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
          lastSuccessAt: new Date(now - 9 * 3600_000),
          lastOutcome: 'failed',
          lastError: 'partner answered 503 Service Unavailable',
          slotCount: 1,
        },
      ],
    });
    try {
      await page.goto(t.baseUrl);
      await page.waitForSelector('#heatmap[data-products="14,15"]');
      expect(await legendCount(page, 'fresh')).toBe(1);
      expect(await legendCount(page, 'failed')).toBe(1);
      expect(await legendCount(page, 'never')).toBe(118);

      await hoverCell(page, 0, 0);
      const tip = page.locator('#tooltip');
      await tip.waitFor({ state: 'visible' });
      expect(await tip.innerText()).toMatch(/Product 14 · \S+ \(\+0\)/);
      expect(await tip.innerText()).toContain('fresh');
      expect(await tip.innerText()).toContain('slots: 9');
      const age = /last success: .+\((\d+) s ago\)/.exec(await tip.innerText());
      expect(Number(age?.[1])).toBeGreaterThanOrEqual(60);
      expect(Number(age?.[1])).toBeLessThan(120);

      await hoverCell(page, 1, 2);
      expect(await tip.innerText()).toContain(`Product 15 · ${addDays(today, 2)} (+2)`);
      expect(await tip.innerText()).toContain('failed');
      expect(await tip.innerText()).toContain('partner answered 503 Service Unavailable');
      expect(await tip.innerText()).toContain('slots: 1');
    } finally {
      await prisma.productDateSync.deleteMany({});
    }
  });

  it('reaches the control buttons and the heatmap with the keyboard', async () => {
    await page.goto(t.baseUrl);
    await page.waitForSelector('#heatmap[data-products="14,15"]');
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate<string>("document.activeElement ? document.activeElement.id : ''"),
      );
    }
    expect(reached).toEqual(
      expect.arrayContaining(['pause-btn', 'run-window', 'run-btn', 'token-btn', 'heatmap']),
    );
    // Arrow keys move the focused cell and its tooltip follows.
    await page.focus('#heatmap');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    expect(await page.locator('#tooltip').innerText()).toContain(
      `Product 15 · ${addDays(today, 1)} (+1)`,
    );
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

  it('fits a phone-width screen without the page itself scrolling sideways', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await phone.goto(t.baseUrl);
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
    await page.goto(t.baseUrl);
    await page.waitForSelector('#sync-state.badge-ok');
    expect(await page.locator('#sync-state').innerText()).toBe('Syncing');
    expect(await page.locator('#budget-calls').innerText()).toMatch(
      /^\d+ \/ 20 calls in the last 1 s$/,
    );
    expect(await page.locator('#budget').innerText()).toMatch(/Circuit breaker\s+closed/);
    // 20 calls per second: 1,728,000 a day, grouped in thousands.
    expect(await page.locator('#capacity').innerText()).toMatch(/ of 1,728,000 calls\/day/);
    expect(await page.locator('#over-capacity').count()).toBe(0);
    const windows = await page.locator('#windows tbody tr td:first-child').allInnerTexts();
    expect([...windows].sort()).toEqual(['daily', 'extended', 'four-hourly', 'quarter-hourly']);
    expect(await page.locator('#load-error').isHidden()).toBe(true);
  });

  it('shows one budget row per key of the status, and nothing of the key itself', async () => {
    const status = await request(t.baseUrl).get(STATUS_PATH);
    const keys = (status.body.limiter as { keys?: { name: string }[] }).keys;
    await page.goto(t.baseUrl);
    await page.waitForSelector('#budget-keys tbody tr');
    const names = await page
      .locator('#budget-keys tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    // A single-key service reports no `keys`: its one row is the aggregate.
    expect(names).toEqual(keys ? keys.map((k) => k.name) : ['partner key']);
    expect(await page.content()).not.toContain(PARTNER_KEY);
  });

  it('renders a two-key status as two rows with their names, fingerprints, states and holds', async () => {
    const now = Date.now();
    const iso = (ms: number): string => new Date(now + ms).toISOString();
    await serveStatus(page, (body) => {
      body.limiter = {
        ...LIMITER_TOTALS,
        queued: 5,
        breaker: 'open',
        keys: [
          {
            ...KEY_DEFAULTS,
            name: 'key #1',
            fingerprint: '3f2a9c1d',
            state: 'held',
            spentInWindow: 29,
            running: 1,
            heldUntil: iso(45_000),
            hold: {
              reason: 'rate_limited',
              since: iso(-15_000),
              until: iso(45_000),
              hintedUntil: iso(600_000),
              capped: true,
            },
          },
          {
            ...KEY_DEFAULTS,
            name: 'key #2',
            fingerprint: '9b00e4a7',
            state: 'rejected',
            breaker: 'open',
            breakerRetryAt: iso(30_000),
            rejectedStatus: 401,
          },
        ],
      };
    });
    await page.goto(t.baseUrl);
    await page.waitForSelector('#budget-keys tbody tr[data-key="key #2"]');
    const rows = page.locator('#budget-keys tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.evaluateAll((r) => r.map((e) => e.getAttribute('data-state')))).toEqual([
      'held',
      'rejected',
    ]);
    const cells = async (row: number): Promise<string[]> =>
      (await rows.nth(row).locator('td').allInnerTexts()).map((c) => c.trim());
    const [first, second] = [await cells(0), await cells(1)];
    expect(first.slice(0, 3)).toEqual(['key #1 3f2a9c1d', '29 / 30 in 60 s', 'held']);
    expect(first[3]).toMatch(/^\S+ \S+ UTC\S* \(in \d+ s\) \(capped; the partner asked for .+\)$/);
    expect(first[4]).toBe('closed');
    expect(second.slice(0, 4)).toEqual([
      'key #2 9b00e4a7',
      '0 / 30 in 60 s',
      'rejected (401)',
      'not held',
    ]);
    expect(second[4]).toMatch(/^open probes \S+ \S+ UTC\S* \(in \d+ s\)$/);
    expect(await rows.nth(0).locator('meter').getAttribute('value')).toBe('29');
    expect(await page.locator('#budget-calls').innerText()).toBe('29 / 60 calls in the last 60 s');
    expect(await page.locator('#budget').innerText()).toMatch(/Queued calls\s+5\n/);
    expect(await page.locator('#budget').innerText()).toMatch(/Circuit breaker\s+open/);
  });

  it('renders a status without keys as one row, with the queue counted over its priorities', async () => {
    const until = new Date(Date.now() + 30_000).toISOString();
    await serveStatus(page, (body) => {
      body.limiter = {
        ...LIMITER_TOTALS,
        queued: { today: 2, week: 1, later: 4 },
        pausedUntil: until,
        hold: { reason: 'rate_limited', since: until, until, hintedUntil: until, capped: false },
      };
    });
    await page.goto(t.baseUrl);
    await page.waitForSelector('#budget-keys tbody tr[data-state="held"]');
    const cells = await page.locator('#budget-keys tbody tr td').allInnerTexts();
    expect(cells.slice(0, 3).map((c) => c.trim())).toEqual([
      'partner key',
      '29 / 60 in 60 s',
      'held',
    ]);
    expect(cells[3]).toMatch(ISO_LOCAL_WITH_RELATIVE);
    expect(await page.locator('#budget').innerText()).toMatch(/Queued calls\s+7\n/);
  });

  it("shows fresh cells for today after 'Run now' of the quarter-hourly window", async () => {
    await page.goto(t.baseUrl);
    await page.waitForSelector('#heatmap[data-products="14,15"]');
    expect(await legendCount(page, 'fresh')).toBe(0);
    await page.selectOption('#run-window', 'quarter-hourly');
    await control(page, '#run-btn', ADMIN_TOKEN);
    await page.waitForSelector('#action-message.message-ok');
    expect(await page.locator('#action-message').innerText()).toMatch(
      /Run #\d+ started for the quarter-hourly window/,
    );
    // The page polls; both products' today cells turn fresh once the run has stored them.
    await page.waitForSelector('#legend li[data-state="fresh"] .legend-count[data-count="2"]', {
      timeout: 30_000,
    });
    // The tooltip's slot count is what the read API now serves for that product-date.
    const slots = await request(t.baseUrl).get(`/api/v1/experience/14?date=${today}`);
    expect(slots.status).toBe(200);
    await hoverCell(page, 0, 0);
    expect(await page.locator('#tooltip').innerText()).toMatch(
      new RegExp(`fresh[\\s\\S]*slots: ${(slots.body as unknown[]).length}\n`),
    );
    expect(simulator.stats().perProductDate[`14:${today}`]).toBeGreaterThanOrEqual(1);
    await page.waitForSelector('#runs tbody tr');
    expect(await page.locator('#runs tbody tr').first().innerText()).toContain('quarter-hourly');
    // One date format on the page: ISO-like local time with its zone, plus a relative time.
    const started = await page.locator('#runs tbody tr:first-child td:nth-child(4)').innerText();
    expect(started).toMatch(ISO_LOCAL_WITH_RELATIVE);
    // The status poll (every 5 s) shows the finished run in the windows table too.
    await page.waitForSelector(
      '#windows tbody tr:has-text("quarter-hourly") .badge:not(.badge-running)',
      { timeout: 30_000 },
    );
    const lastRun = await page
      .locator('#windows tbody tr', { hasText: 'quarter-hourly' })
      .locator('td:nth-child(5)')
      .innerText();
    expect(lastRun).toMatch(ISO_LOCAL_WITH_RELATIVE);
    expect(await page.locator('#updated').innerText()).toMatch(
      /^updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC([+-]\d{1,2}(:\d{2})?)?$/,
    );
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

  it('saves a screenshot of the page as a test artifact', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // A daily run (today..+29) first, so the picture shows a realistic mix of states.
    const run = await request(t.baseUrl)
      .post('/api/v1/experience/sync/run')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ window: 'daily' });
    expect(run.status).toBe(202);
    await waitForRunToFinish(t.baseUrl, (run.body as { runId: number }).runId);
    await page.goto(t.baseUrl);
    await page.waitForSelector('#runs tbody tr:first-child .badge:not(.badge-running)');
    await page.waitForSelector('#heatmap[data-generated-at]');
    expect(await legendCount(page, 'fresh')).toBeGreaterThanOrEqual(2);
    const file = path.join(ARTIFACTS, 'operator-page.png');
    const png = await page.screenshot({ path: file, fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  }, 120_000);
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

describe("operator's page: a partner answering garbage", () => {
  let db: TestDatabase;
  let simulator: PartnerSimulator;
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase('inv_uifail');
    simulator = new PartnerSimulator({ rateLimit: 20, windowMs: 1000, apiKey: PARTNER_KEY });
    t = await startTestApp({
      DATABASE_URL: db.url,
      PARTNER_API_URL: await simulator.start(),
      PARTNER_API_KEY: PARTNER_KEY,
      PARTNER_RATE_LIMIT: '20',
      PARTNER_RATE_WINDOW_MS: '1000',
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'false',
      ADMIN_TOKEN,
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await simulator?.stop();
    await db?.drop();
  });

  const runToday = async (): Promise<void> => {
    const run = await request(t.baseUrl)
      .post('/api/v1/experience/sync/run')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ window: 'quarter-hourly' });
    expect(run.status).toBe(202);
  };

  it('marks a date failed with the partner error when the attempt after a success fails', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await runToday();
      await page.goto(t.baseUrl);
      await page.waitForSelector('#legend li[data-state="fresh"] .legend-count[data-count="2"]', {
        timeout: 30_000,
      });
      simulator.setFaults({ malformedJson: true });
      await runToday();
      await page.waitForSelector('#legend li[data-state="failed"] .legend-count[data-count="2"]', {
        timeout: 30_000,
      });
      await hoverCell(page, 0, 0);
      const tip = await page.locator('#tooltip').innerText();
      expect(tip).toContain('failed: last attempt failed after the last success');
      expect(tip).toMatch(/last success: .+ ago\)/);
      expect(tip).toContain('Partner sent an invalid payload');

      const matrix = await request(t.baseUrl).get('/api/v1/experience/sync/freshness');
      expect(matrix.body.products[0].states[0]).toBe('x');
      expect(matrix.body.products[0].errors[0]).toMatchObject({ day: 0 });
      expect(matrix.body.products[0].ageSeconds[0]).not.toBeNull();
    } finally {
      simulator.setFaults({ malformedJson: false });
      await page.close();
    }
  });
});

describe("operator's page from the built service (dist/main.js)", () => {
  let db: TestDatabase;
  let service: ServiceProcess;

  beforeAll(async () => {
    db = await createTestDatabase('inv_uidist');
    service = await startServiceProcess({
      DATABASE_URL: db.url,
      PARTNER_API_URL: 'http://127.0.0.1:9',
      PARTNER_API_KEY: PARTNER_KEY,
      SYNC_ON_BOOT: 'false',
    });
  });

  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  it('finds the page, script and stylesheet in src/ui/assets at runtime', async () => {
    for (const [path, type] of [
      ['/', /^text\/html/],
      ...UI_SCRIPTS.map((name) => [`/ui/${name}`, /^text\/javascript/] as const),
      ['/ui/app.css', /^text\/css/],
    ] as const) {
      const res = await request(service.baseUrl).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
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

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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
