// `npm run docs:screenshot`: takes docs/operator-page.png the way a user first sees the page.
// Boots `npm run demo` exactly as shipped (embedded database in a fresh temporary folder, the
// built-in simulator, the real budget of 30 calls per 60 s), waits until the boot catch-up has
// stored some of products 14 and 15 while more is still arriving, and photographs the page with
// Debian's chromium (CHROMIUM_PATH to use another binary).
const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const root = path.join(__dirname, '..');
const output = path.join(root, 'docs', 'operator-page.png');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Enough cells to show data arriving, well short of the 120 the catch-up fetches.
const FRESH_AT_LEAST = 16;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

function startDemo(dataDir) {
  // Only what a user's shell would have: no DATABASE_URL, partner URL or token leaks in.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir };
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', TZ: process.env.TZ || 'UTC' });
  const child = spawn(process.execPath, [path.join(root, 'dist', 'main.js'), '--demo'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /^(?=.*"msg":"listening").*"url":"(http:\/\/[^"]+)"/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace('[::1]', '127.0.0.1'));
      }
    });
    child.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${out}`)));
  });
  return { child, url };
}

async function main() {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'operator-page-'));
  const demo = startDemo(dataDir);
  let browser;
  try {
    const base = await demo.url;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const matrix = await getJson(`${base}/api/v1/experience/sync/freshness`);
      const fresh = matrix.counts.fresh;
      if (fresh >= FRESH_AT_LEAST) break;
      if (Date.now() > deadline) throw new Error(`only ${fresh} fresh cells after 2 minutes`);
      await sleep(500);
    }
    const status = await getJson(`${base}/api/v1/experience/sync/status`);
    const expected = { limit: 30, windowMs: 60_000, callsPerDayAllowed: 43_200 };
    const actual = {
      limit: status.limiter.limit,
      windowMs: status.limiter.windowMs,
      callsPerDayAllowed: status.capacity.callsPerDayAllowed,
    };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(`not the demo's settings: ${JSON.stringify(actual)}`);
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    await page.waitForSelector('#heatmap[data-products="14,15"][data-generated-at]');
    await page.waitForSelector('#budget-calls');
    const budget = await page.locator('#budget-calls').innerText();
    if (!/ \/ 30 calls in the last 60 s$/.test(budget)) throw new Error(`budget shows ${budget}`);
    await page.screenshot({ path: output, fullPage: true });
    console.log(`${path.relative(root, output)}: ${budget}; products 14 and 15 (${base})`);
  } finally {
    await browser?.close();
    demo.child.kill('SIGTERM');
    await new Promise((resolve) => demo.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`screenshot failed: ${err.message}`);
  process.exit(1);
});
