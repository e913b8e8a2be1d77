import request from 'supertest';
import {
  ISO_LOCAL_WITH_RELATIVE,
  PARTNER_KEY,
  serveStatus,
  useOperatorPage,
  STATUS_PATH,
} from './support/operator-page';

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

// The partner budget panel: one row per key of GET /sync/status. The key pool's status is
// served to the page by request interception, so this holds whatever the service reports.
describe("operator's page: the partner budget, one row per key", () => {
  const ui = useOperatorPage('inv_uibudget');

  it('shows one budget row per key of the status, and nothing of the key itself', async () => {
    const status = await request(ui.t.baseUrl).get(STATUS_PATH);
    const keys = (status.body.limiter as { keys?: { name: string }[] }).keys;
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#budget-keys tbody tr');
    const names = await ui.page
      .locator('#budget-keys tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    // A single-key service reports no `keys`: its one row is the aggregate.
    expect(names).toEqual(keys ? keys.map((k) => k.name) : ['partner key']);
    expect(await ui.page.content()).not.toContain(PARTNER_KEY);
  });

  it('renders a two-key status as two rows with their names, fingerprints, states and holds', async () => {
    const now = Date.now();
    const iso = (ms: number): string => new Date(now + ms).toISOString();
    await serveStatus(ui.page, (body) => {
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
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#budget-keys tbody tr[data-key="key #2"]');
    const rows = ui.page.locator('#budget-keys tbody tr');
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
    expect(await ui.page.locator('#budget-calls').innerText()).toBe(
      '29 / 60 calls in the last 60 s',
    );
    expect(await ui.page.locator('#budget').innerText()).toMatch(/Queued calls\s+5\n/);
    expect(await ui.page.locator('#budget').innerText()).toMatch(/Circuit breaker\s+open/);
  });

  it('renders a status without keys as one row, with the queue counted over its priorities', async () => {
    const until = new Date(Date.now() + 30_000).toISOString();
    await serveStatus(ui.page, (body) => {
      body.limiter = {
        ...LIMITER_TOTALS,
        queued: { today: 2, week: 1, later: 4 },
        pausedUntil: until,
        hold: { reason: 'rate_limited', since: until, until, hintedUntil: until, capped: false },
      };
    });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#budget-keys tbody tr[data-state="held"]');
    const cells = await ui.page.locator('#budget-keys tbody tr td').allInnerTexts();
    expect(cells.slice(0, 3).map((c) => c.trim())).toEqual([
      'partner key',
      '29 / 60 in 60 s',
      'held',
    ]);
    expect(cells[3]).toMatch(ISO_LOCAL_WITH_RELATIVE);
    expect(await ui.page.locator('#budget').innerText()).toMatch(/Queued calls\s+7\n/);
    // The row says it is held; the every-key line belongs to a pool.
    expect(await ui.page.locator('#budget-all-held').count()).toBe(0);
  });

  it('says when every key of the pool is held, above the rows', async () => {
    const until = new Date(Date.now() + 30_000).toISOString();
    const held = { ...KEY_DEFAULTS, state: 'held', heldUntil: until };
    await serveStatus(ui.page, (body) => {
      body.limiter = {
        ...LIMITER_TOTALS,
        queued: 0,
        pausedUntil: until,
        keys: [
          { ...held, name: 'key #1', fingerprint: '3f2a9c1d' },
          { ...held, name: 'key #2', fingerprint: '9b00e4a7' },
        ],
      };
    });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#budget-all-held');
    expect(await ui.page.locator('#budget-all-held').innerText()).toMatch(
      /^Every key is held until \S+ \S+ UTC\S* \(in \d+ s\)$/,
    );
    expect(
      await ui.page
        .locator('#budget-keys tbody tr[data-state="held"]')
        .evaluateAll((r) => r.length),
    ).toBe(2);
  });
});
