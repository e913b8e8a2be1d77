import { callModule, serveStatus, useOperatorPage } from './support/operator-page';

const HOUR = 3_600_000;
/** 1970-01-02T00:00Z as "now": the chart's 24 h run from the epoch to here. */
const DAY_AT_24H = 24 * HOUR;

// The accuracy panel: the status answer's `accuracy` as one number, a row per horizon and a chart
// of the last 24 h. The estimate is served to the page by request interception where a fixed one
// is needed; the live one (no second sync yet) says there is none.
describe("operator's page: the accuracy estimate", () => {
  const ui = useOperatorPage('inv_uiaccuracy');

  it('says there is no estimate before a product-date was synced twice', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#accuracy-headline');
    expect(await ui.page.textContent('#accuracy-headline')).toBe(
      'fresh reads: no estimate yet (a product-date needs two syncs)',
    );
    const rows = await ui.page
      .locator('#accuracy tbody tr')
      .evaluateAll((r) => r.map((x) => x.getAttribute('data-horizon')));
    expect(rows).toEqual(['today', 'week', 'month', 'extended']);
  });

  it('shows the headline, each horizon and the last 24 h as a line', async () => {
    const now = Date.now();
    const iso = (ms: number): string => new Date(now + ms).toISOString();
    const history = [
      ...Array.from({ length: 12 }, (_, i) => ({
        at: iso(-20 * HOUR + i * 300_000),
        expectedFreshReads: 0.6,
      })),
      // Two hours without samples (a restart), then a second run of samples.
      ...Array.from({ length: 6 }, (_, i) => ({
        at: iso(-2 * HOUR + i * 300_000),
        expectedFreshReads: 0.7,
      })),
    ];
    await serveStatus(ui.page, (body) => {
      body.accuracy = {
        expectedFreshReads: 0.724,
        horizons: [
          {
            name: 'today',
            changeRatePerHour: 2.5,
            observations: 1200,
            changed: 700,
            expectedFreshReads: 0.55,
          },
          {
            name: 'week',
            changeRatePerHour: 0.25,
            observations: 300,
            changed: 40,
            expectedFreshReads: 0.8,
          },
          {
            name: 'month',
            changeRatePerHour: 0.01,
            observations: 90,
            changed: 2,
            expectedFreshReads: 0.9,
          },
          {
            name: 'extended',
            changeRatePerHour: null,
            observations: 0,
            changed: 0,
            expectedFreshReads: null,
          },
        ],
        estimatedAt: iso(0),
        windowSeconds: 86_400,
        method: 'Poisson MLE',
        history,
      };
    });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#accuracy-chart');
    expect(await ui.page.textContent('#accuracy-headline')).toBe('72 % of reads fresh (estimated)');
    const rows = await ui.page
      .locator('#accuracy tbody tr')
      .evaluateAll((r) => r.map((x) => [...x.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toEqual([
      ['today', '2.5 / h', '1,200 (700)', '55 %'],
      ['+1…+6', '1 per 4.0 h', '300 (40)', '80 %'],
      ['+7…+29', '1 per 4.2 days', '90 (2)', '90 %'],
      ['+30…+59', '—', '0 (0)', '—'],
    ]);
    expect(await ui.page.locator('#accuracy-chart polyline').count()).toBe(2);
  });

  it.each<[string, [unknown[], unknown][]]>([
    [
      'percent',
      [
        [[0.724], '72 %'],
        [[1], '100 %'],
        [[null], '—'],
      ],
    ],
    [
      'ratePerHour',
      [
        [[null], '—'],
        [[0], 'none seen'],
        [[12.34], '12.3 / h'],
        [[0.5], '1 per 2.0 h'],
        [[1 / 168], '1 per 7.0 days'],
      ],
    ],
    [
      'chartLines',
      [
        [[[], 0], []],
        // Share 1 at the top, 0 at the bottom; x across the 24 h before now.
        [
          [
            [
              { at: '1970-01-01T12:00:00.000Z', expectedFreshReads: 1 },
              { at: '1970-01-01T12:05:00.000Z', expectedFreshReads: 0.5 },
            ],
            DAY_AT_24H,
            288,
            60,
          ],
          ['144.0,0.0 145.0,30.0'],
        ],
        // A null sample and a gap over 15 minutes each break the line; older than 24 h is left out.
        [
          [
            [
              { at: '1969-12-31T23:00:00.000Z', expectedFreshReads: 0.9 },
              { at: '1970-01-01T01:00:00.000Z', expectedFreshReads: 0.5 },
              { at: '1970-01-01T01:05:00.000Z', expectedFreshReads: null },
              { at: '1970-01-01T01:10:00.000Z', expectedFreshReads: 0.5 },
              { at: '1970-01-01T02:00:00.000Z', expectedFreshReads: 0.5 },
            ],
            DAY_AT_24H,
            288,
            60,
          ],
          ['12.0,30.0', '14.0,30.0', '24.0,30.0'],
        ],
      ],
    ],
  ])('accuracy.js %s, table-tested in the page', async (name, cases) => {
    await ui.page.goto(ui.t.baseUrl);
    for (const [args, expected] of cases) {
      expect([args, await callModule(ui.page, 'accuracy.js', name, args)]).toEqual([
        args,
        expected,
      ]);
    }
  });
});
