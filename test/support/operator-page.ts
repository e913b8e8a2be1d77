import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { PartnerSimulator } from '../../src/partner/simulator/partner-simulator';
import { UI_ASSET_FILES, UI_PAGE } from '../../src/ui/ui-assets';
import { createTestDatabase, type TestDatabase } from './test-database';
import { startTestApp, type TestApp } from './test-app';
import { until } from './until';

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
export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
export const ADMIN_TOKEN = 'ui-test-admin-token-0123456789';
export const PARTNER_KEY = 'ui-test-partner-key';
export const STATUS_PATH = '/api/v1/experience/sync/status';
/** e.g. `2026-12-01 12:00:00 UTC (42 s ago)` or `2026-12-01 17:30:00 UTC+5:30 (in 3 min)`. */
export const ISO_LOCAL_WITH_RELATIVE =
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC([+-]\d{1,2}(:\d{2})?)? \((in .+|.+ ago)\)$/;
export const UI_SCRIPTS = Object.keys(UI_ASSET_FILES).filter((name) => name.endsWith('.js'));
/** Every file the page loads under /ui/: its stylesheets and script modules. */
export const UI_SUBRESOURCES = Object.keys(UI_ASSET_FILES).filter((name) => name !== UI_PAGE);

export interface CanvasLayout {
  labelW: number;
  headerH: number;
  cellW: number;
  cellH: number;
}

export async function launchBrowser(): Promise<Browser> {
  // launch() gives every run a new, empty profile directory.
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** The service as most page suites run it, with the partner simulator and a browser. */
export interface OperatorPageFixture {
  db: TestDatabase;
  simulator: PartnerSimulator;
  t: TestApp;
  browser: Browser;
  stop(): Promise<void>;
}

/** Products 14 and 15, 20 calls per second, an admin token, no sync at boot. */
export async function startOperatorPage(dbName: string): Promise<OperatorPageFixture> {
  // The browser first: without chromium the suite fails before it creates anything to clean up.
  const browser = await launchBrowser();
  const db = await createTestDatabase(dbName);
  const simulator = new PartnerSimulator({ rateLimit: 20, windowMs: 1000, apiKey: PARTNER_KEY });
  const t = await startTestApp({
    DATABASE_URL: db.url,
    PARTNER_API_URL: await simulator.start(),
    PARTNER_API_KEY: PARTNER_KEY,
    PARTNER_RATE_LIMIT: '20',
    PARTNER_RATE_WINDOW_MS: '1000',
    SYNC_PRODUCT_IDS: '14,15',
    SYNC_ON_BOOT: 'false',
    ADMIN_TOKEN,
  });
  return {
    db,
    simulator,
    t,
    browser,
    stop: async () => {
      await browser.close();
      await t.close();
      await simulator.stop();
      await db.drop();
    },
  };
}

export const VIEWPORT = { width: 1280, height: 900 };

/** What a suite reaches through useOperatorPage(), valid inside its tests and hooks. */
export interface OperatorPageSuite {
  readonly t: TestApp;
  readonly browser: Browser;
  readonly simulator: PartnerSimulator;
  /** A fresh page (VIEWPORT) for the current test, closed after it. */
  readonly page: Page;
}

/**
 * The lifecycle most page suites share, as Jest hooks of the calling describe: the service, the
 * simulator and a browser (startOperatorPage) once for the suite, and a fresh page per test.
 */
export function useOperatorPage(dbName: string): OperatorPageSuite {
  let fixture: OperatorPageFixture | undefined;
  let page: Page | undefined;
  const started = (): OperatorPageFixture => {
    if (!fixture) throw new Error(`${dbName}: the operator page is used outside its tests`);
    return fixture;
  };
  beforeAll(async () => {
    fixture = await startOperatorPage(dbName);
  });
  afterAll(async () => {
    await fixture?.stop();
  });
  beforeEach(async () => {
    page = await started().browser.newPage({ viewport: VIEWPORT });
  });
  afterEach(async () => {
    await page?.close();
    page = undefined;
  });
  return {
    get t() {
      return started().t;
    },
    get browser() {
      return started().browser;
    },
    get simulator() {
      return started().simulator;
    },
    get page() {
      if (!page) throw new Error(`${dbName}: the page is used outside a test`);
      return page;
    },
  };
}

/** The number shown next to a state in the legend, once the freshness matrix has loaded. */
export async function legendCount(page: Page, state: string): Promise<number> {
  const text = await page
    .locator(`#legend li[data-state="${state}"] .legend-count`)
    .getAttribute('data-count');
  return Number(text);
}

export async function syncStatus(baseUrl: string): Promise<{ paused: boolean }> {
  const res = await request(baseUrl).get(STATUS_PATH);
  expect(res.status).toBe(200);
  return res.body as { paused: boolean };
}

/** Waits until GET /sync/status shows the run with an end time (the machine may be busy). */
export async function waitForRunToFinish(baseUrl: string, runId: number): Promise<void> {
  await until(
    `run ${runId} to finish`,
    async () => {
      const res = await request(baseUrl).get(STATUS_PATH);
      const runs = (res.body as { recentRuns?: { id: number; finishedAt: string | null }[] })
        .recentRuns;
      return runs?.some((r) => r.id === runId && r.finishedAt !== null);
    },
    90_000,
    250,
  );
}

/** Clicks a control button and answers the token prompt when the page asks for one. */
export async function control(page: Page, button: string, token?: string): Promise<void> {
  await page.click(button);
  if (token !== undefined) {
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token-input', token);
    await page.press('#token-input', 'Enter');
  }
}

export async function hoverCell(page: Page, row: number, col: number): Promise<void> {
  const canvas = page.locator('#heatmap');
  const layout = JSON.parse((await canvas.getAttribute('data-layout')) ?? '{}') as CanvasLayout;
  await canvas.hover({
    position: {
      x: layout.labelW + col * layout.cellW + layout.cellW / 2,
      y: layout.headerH + row * layout.cellH + layout.cellH / 2,
    },
  });
}

/** Answers the page's status polls with the real status, changed by `change`. */
export async function serveStatus(
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
export async function callModule<T>(
  page: Page,
  module: string,
  name: string,
  args: unknown[],
): Promise<T> {
  return page.evaluate<T>(
    `import('/ui/${module}').then((m) => m[${JSON.stringify(name)}](...${JSON.stringify(args)}))`,
  );
}
