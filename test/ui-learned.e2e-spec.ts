import { callModule, serveStatus, useOperatorPage } from './support/operator-page';

// The learned rates panel: the status answer's `learned` as one read-weighted number, a row per
// horizon and this instance's read counter. A fixed answer is served by request interception; the
// live one (nothing read yet) says so.
describe("operator's page: the learned rates", () => {
  const ui = useOperatorPage('inv_uilearned');

  it('shows a row per horizon from the live status, and that no read was counted yet', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#learned-headline');
    expect(await ui.page.textContent('#learned-headline')).toBe('no reads counted yet');
    const rows = await ui.page
      .locator('#learned tbody tr')
      .evaluateAll((r) => r.map((x) => x.getAttribute('data-horizon')));
    expect(rows).toEqual(['today', 'week', 'month', 'extended']);
  });

  it('shows the read-weighted fresh share, each horizon and the read counter', async () => {
    await serveStatus(ui.page, (body) => {
      body.learned = {
        horizons: [
          {
            name: 'today',
            productDates: 900,
            changeRatePerHour: 2.5,
            readsPerHour: 1234.4,
            syncsLastHour: 1500,
            expectedFreshReads: 0.61,
          },
          {
            name: 'week',
            productDates: 5400,
            changeRatePerHour: 0.25,
            readsPerHour: 4.25,
            syncsLastHour: 12,
            expectedFreshReads: 0.8,
          },
          {
            name: 'month',
            productDates: 20700,
            changeRatePerHour: 0.01,
            readsPerHour: 0,
            syncsLastHour: 0,
            expectedFreshReads: null,
          },
          {
            name: 'extended',
            productDates: 0,
            changeRatePerHour: null,
            readsPerHour: 0,
            expectedFreshReads: null,
          },
        ],
        readsPerHour: 1238.65,
        expectedFreshReads: 0.612,
        computedAt: new Date().toISOString(),
        readCounter: { pending: 3, flushedReads: 1500, droppedReads: 7, lastFlushAt: null },
      };
    });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#learned tbody tr');
    expect(await ui.page.textContent('#learned-headline')).toBe(
      '61 % of reads fresh, weighted by reads (1,239 / h)',
    );
    const rows = await ui.page
      .locator('#learned tbody tr')
      .evaluateAll((r) => r.map((x) => [...x.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toEqual([
      ['today', '900', '2.5 / h', '1,234 / h', '1,500', '61 %'],
      ['+1…+6', '5,400', '1 per 4.0 h', '4.3 / h', '12', '80 %'],
      ['+7…+29', '20,700', '1 per 4.2 days', 'none', '0', '—'],
      ['+30…+59', '0', '—', 'none', '—', '—'],
    ]);
    expect(await ui.page.textContent('#learned')).toContain(
      '1,500 written, 3 product-dates waiting, 7 dropped',
    );
  });

  it.each<[unknown, string]>([
    [null, '—'],
    [0, 'none'],
    [0.04, '0.0 / h'],
    [9.96, '10.0 / h'],
    [12345.6, '12,346 / h'],
  ])('readsPerHour(%p) is %p', async (rate, text) => {
    await ui.page.goto(ui.t.baseUrl);
    expect(await callModule(ui.page, 'learned.js', 'readsPerHour', [rate])).toBe(text);
  });

  it('shows the plan: when it was ranked and the next product-dates with why', async () => {
    await serveStatus(ui.page, (body) => {
      body.plan = {
        budgetShare: 0.9,
        floorSeconds: { today: 900, week: 14400, month: 86400, extended: 604800 },
        rankedAt: new Date(Date.now() - 5000).toISOString(),
        rankMs: 42,
        forcedMinutes: 3,
        lists: {
          floor: { ranked: 1, left: 1 },
          never: { ranked: 0, left: 0 },
          value: { ranked: 1, left: 1 },
          due: { ranked: 0, left: 0 },
        },
        next: [
          {
            productId: 14,
            date: '2026-12-07',
            why: 'floor',
            value: 0,
            deadline: new Date(Date.now() + 60_000).toISOString(),
            changeRatePerHour: 2.5,
            readsPerHour: 0,
          },
          {
            productId: 15,
            date: '2026-12-09',
            why: 'value',
            value: 123.4,
            deadline: new Date(Date.now() + 3_600_000).toISOString(),
            changeRatePerHour: 0.25,
            readsPerHour: 12,
          },
        ],
      };
    });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#learned tr[data-why]');
    expect(await ui.page.textContent('#plan-headline')).toMatch(
      /^Ranked .* in 42 ms; spare share 90 % of each key; the floor forces the next 3 min of deadlines\.$/,
    );
    const rows = await ui.page
      .locator('#learned tr[data-why]')
      .evaluateAll((r) =>
        r.map((x) => [...x.querySelectorAll('td')].slice(0, 6).map((td) => td.textContent)),
      );
    expect(rows).toEqual([
      ['#14', '2026-12-07', 'floor: its maximum age runs out', '0', '2.5 / h', 'none'],
      ['#15', '2026-12-09', 'value: reads it turns fresh', '123', '1 per 4.0 h', '12 / h'],
    ]);
  });

  it('says where the plan is ranked when this instance does not lead', async () => {
    await serveStatus(ui.page, (body) => {
      body.plan = { ...(body.plan as object), rankedAt: null, next: [] };
    });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#plan-headline');
    expect(await ui.page.textContent('#plan-headline')).toBe(
      'Not ranked here: the sync leader ranks the work (spare share 90 %).',
    );
  });
});
