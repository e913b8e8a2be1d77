import request from 'supertest';
import {
  callModule,
  PARTNER_KEY,
  useOperatorPage,
  UI_SCRIPTS,
  UI_SUBRESOURCES,
} from './support/operator-page';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// The operator page's files: served under its self-only policy as browser ES modules, and their
// pure functions table-tested where they run.
describe("operator's page modules", () => {
  const ui = useOperatorPage('inv_uimods');

  it('serves GET / with a Content-Security-Policy that allows only its own origin', async () => {
    const res = await request(ui.t.baseUrl).get('/');
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
    // Module scripts are refused unless served as JavaScript; caching as for the ui.page.
    for (const name of UI_SCRIPTS) {
      const js = await request(ui.t.baseUrl).get(`/ui/${name}`);
      expect([name, js.status, js.headers['content-type']]).toEqual([
        name,
        200,
        'text/javascript; charset=utf-8',
      ]);
      expect(js.headers['cache-control']).toBe('no-cache');
      expect(js.headers['x-content-type-options']).toBe('nosniff');
    }
    for (const name of ['app.css', 'panels.css']) {
      const css = await request(ui.t.baseUrl).get(`/ui/${name}`);
      expect([name, css.status, css.headers['content-type']]).toEqual([
        name,
        200,
        'text/css; charset=utf-8',
      ]);
    }
    const unknown = await request(ui.t.baseUrl).get('/ui/app.js');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect((await request(ui.t.baseUrl).get('/ui/index.html')).status).toBe(404);
  });

  it('loads every script module under that policy, without a console error', async () => {
    const problems: string[] = [];
    ui.page.on('pageerror', (e) => problems.push(e.message));
    ui.page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    const loaded = new Map<string, number>();
    ui.page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/ui/')) loaded.set(url.pathname.slice(4), r.status());
    });
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#budget-keys tbody tr');
    await ui.page.waitForSelector('#heatmap[data-generated-at]');
    expect(Object.fromEntries(loaded)).toEqual(
      Object.fromEntries(UI_SUBRESOURCES.map((name) => [name, 200])),
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
      'format.js',
      'runCounts',
      [
        [[null], '—'],
        [
          [
            {
              outcome: 'running',
              planned: 60,
              succeeded: 16,
              failed: 1,
              remaining: 43,
              changed: 16,
              deduplicated: 36,
            },
          ],
          '16/60 ok, 1 failed, 43 remaining, 16 changed, 36 shared',
        ],
        [
          [
            {
              outcome: 'ok',
              planned: 60,
              succeeded: 60,
              failed: 0,
              remaining: 0,
              changed: 3,
              deduplicated: 0,
            },
          ],
          '60/60 ok, 0 failed, 3 changed, 0 shared',
        ],
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
    await ui.page.goto(ui.t.baseUrl);
    for (const [args, expected] of cases) {
      expect([args, await callModule(ui.page, module, name, args)]).toEqual([args, expected]);
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
      const local = await ui.browser.newPage({ timezoneId });
      try {
        await local.goto(ui.t.baseUrl);
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
    await ui.page.goto(ui.t.baseUrl);
    const rows = await callModule<{ name: string; state: string; heldUntil: string | null }[]>(
      ui.page,
      'budget.js',
      'budgetRows',
      [{ limit: 30, windowMs: 60_000, spentInWindow: 3, running: 0, queued: {}, ...limiter }],
    );
    expect(rows).toEqual([
      expect.objectContaining({ name: 'partner key', state, heldUntil: limiter.pausedUntil }),
    ]);
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

  it('finds the page, its scripts and stylesheets in src/ui/assets at runtime', async () => {
    const files: [string, RegExp][] = [
      ['/', /^text\/html/],
      ...UI_SUBRESOURCES.map((name): [string, RegExp] => [
        `/ui/${name}`,
        name.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      ]),
    ];
    for (const [path, type] of files) {
      const res = await request(service.baseUrl).get(path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers['content-type']).toMatch(type);
    }
  });
});
