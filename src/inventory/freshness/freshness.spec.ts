import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import { buildFreshnessMatrix, type ProductDateSyncRow } from './freshness-matrix';
import { buildSyncPolicy, targetSecondsForDay } from '../policy/sync-policy';
import {
  classifyFreshness,
  freshnessBands,
  lastAttemptFailed,
  type FreshnessState,
  type ProductDateSyncFacts,
} from './freshness';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;

const facts = (f: Partial<ProductDateSyncFacts>): ProductDateSyncFacts => ({
  lastAttemptAt: null,
  lastSuccessAt: null,
  lastOutcome: null,
  lastError: null,
  ...f,
});

const POLICY = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW);
const intervalForDay = (day: number): number => targetSecondsForDay(POLICY, day);

describe('freshnessBands', () => {
  it('shows the policy horizons with their targets', () => {
    expect(freshnessBands(POLICY)).toEqual([
      { horizon: 'today', fromDay: 0, toDay: 0, intervalSeconds: 15 * MIN },
      { horizon: 'week', fromDay: 1, toDay: 6, intervalSeconds: 4 * HOUR },
      { horizon: 'month', fromDay: 7, toDay: 29, intervalSeconds: DAY },
      { horizon: 'extended', fromDay: 30, toDay: 59, intervalSeconds: 7 * DAY },
    ]);
  });
});

describe('the default policy per day', () => {
  it.each([
    [0, 15 * MIN],
    [1, 4 * HOUR],
    [6, 4 * HOUR],
    [7, DAY],
    [29, DAY],
    [30, 7 * DAY],
    [59, 7 * DAY],
    [75, 7 * DAY],
  ])('day +%i is refreshed every %i s', (day, seconds) => {
    expect(intervalForDay(day)).toBe(seconds);
  });
});

describe('classifyFreshness', () => {
  const ok = (successAgo: number): ProductDateSyncFacts =>
    facts({ lastAttemptAt: ago(successAgo), lastSuccessAt: ago(successAgo), lastOutcome: 'ok' });

  it.each<[string, FreshnessState, ProductDateSyncFacts | undefined, number]>(
    (
      [
        ['no row at all', undefined, 15 * MIN, 'never'],
        ['a row without any attempt', facts({}), 15 * MIN, 'never'],
        ['synced just now', ok(0), 15 * MIN, 'fresh'],
        ['synced exactly one interval ago', ok(15 * MIN), 15 * MIN, 'fresh'],
        ['synced one second past one interval', ok(15 * MIN + 1), 15 * MIN, 'due'],
        ['synced exactly two intervals ago', ok(30 * MIN), 15 * MIN, 'due'],
        ['synced one second past two intervals', ok(30 * MIN + 1), 15 * MIN, 'stale'],
        ['today synced 20 min ago', ok(20 * MIN), intervalForDay(0), 'due'],
        ['day +3 synced 20 min ago', ok(20 * MIN), intervalForDay(3), 'fresh'],
        ['day +3 synced 9 h ago', ok(9 * HOUR), intervalForDay(3), 'stale'],
        ['day +40 synced 8 days ago', ok(8 * DAY), intervalForDay(40), 'due'],
        [
          'last attempt failed after the last success',
          facts({
            lastAttemptAt: ago(MIN),
            lastSuccessAt: ago(5 * MIN),
            lastOutcome: 'failed',
            lastError: 'partner answered 503',
          }),
          15 * MIN,
          'failed',
        ],
        [
          'never succeeded and the attempt failed',
          facts({ lastAttemptAt: ago(MIN), lastOutcome: 'invalid', lastError: 'bad payload' }),
          15 * MIN,
          'failed',
        ],
        [
          'failed attempt without an outcome but with an error',
          facts({ lastAttemptAt: ago(MIN), lastSuccessAt: ago(2 * MIN), lastError: 'timeout' }),
          15 * MIN,
          'failed',
        ],
        [
          'an old error followed by a success',
          facts({
            lastAttemptAt: ago(MIN),
            lastSuccessAt: ago(MIN),
            lastOutcome: 'unchanged',
            lastError: 'partner answered 503',
          }),
          15 * MIN,
          'fresh',
        ],
        [
          'an attempt still running after an old success',
          facts({ lastAttemptAt: ago(MIN), lastSuccessAt: ago(40 * MIN), lastOutcome: 'running' }),
          15 * MIN,
          'stale',
        ],
      ] as [string, ProductDateSyncFacts | undefined, number, FreshnessState][]
    ).map(([name, f, interval, expected]) => [name, expected, f, interval]),
  )('%s → %s', (_name, expected, f, interval) => {
    expect(classifyFreshness(f, interval, NOW)).toBe(expected);
  });
});

describe('lastAttemptFailed', () => {
  it.each<[string, boolean, Partial<ProductDateSyncFacts>]>([
    ['no attempt', false, {}],
    ['attempt equal to success', false, { lastAttemptAt: ago(1), lastSuccessAt: ago(1) }],
    ['later attempt, outcome CHANGED', false, { lastAttemptAt: ago(1), lastOutcome: 'CHANGED' }],
    ['later attempt, outcome rate-limited', true, { lastAttemptAt: ago(1), lastOutcome: '429' }],
    ['later attempt, nothing recorded yet', false, { lastAttemptAt: ago(1) }],
  ])('%s → failed: %s', (_name, expected, f) => {
    expect(lastAttemptFailed(facts(f))).toBe(expected);
  });
});

describe('buildFreshnessMatrix', () => {
  const row = (r: Partial<ProductDateSyncRow> & { productId: number; date: string }) => ({
    ...facts({}),
    slotCount: 0,
    ...r,
  });

  const matrix = buildFreshnessMatrix({
    policy: POLICY,
    productIds: [14, 15, 99],
    today: '2026-03-10',
    timeZone: 'UTC',
    now: NOW,
    rows: [
      row({
        productId: 14,
        date: '2026-03-10',
        lastAttemptAt: ago(60),
        lastSuccessAt: ago(60),
        lastOutcome: 'changed',
        slotCount: 9,
      }),
      row({
        productId: 14,
        date: '2026-03-12',
        lastAttemptAt: ago(30),
        lastSuccessAt: ago(9 * HOUR),
        lastOutcome: 'failed',
        lastError: 'partner answered 503',
        slotCount: 9,
      }),
      row({
        productId: 15,
        date: '2026-05-08',
        lastAttemptAt: ago(DAY),
        lastSuccessAt: ago(DAY),
        lastOutcome: 'ok',
        slotCount: 1,
      }),
      // Outside the 60 days (yesterday, and day +60): ignored.
      row({ productId: 15, date: '2026-03-09', lastSuccessAt: ago(60), lastOutcome: 'ok' }),
      row({ productId: 15, date: '2026-05-09', lastSuccessAt: ago(60), lastOutcome: 'ok' }),
      // A product that is not configured any more: not shown.
      row({ productId: 77, date: '2026-03-10', lastSuccessAt: ago(60), lastOutcome: 'ok' }),
    ],
  });

  it('has one row per configured product in order and one column per date today..+59', () => {
    expect(matrix.products.map((p) => p.productId)).toEqual([14, 15, 99]);
    expect(matrix.dates).toHaveLength(60);
    expect(matrix.dates[0]).toBe('2026-03-10');
    expect(matrix.dates[59]).toBe('2026-05-08');
    for (const p of matrix.products) {
      expect(p.states).toHaveLength(60);
      expect(p.ageSeconds).toHaveLength(60);
      expect(p.slots).toHaveLength(60);
    }
  });

  it('codes each cell with one letter and keeps age, slots and errors per cell', () => {
    const p14 = matrix.products[0];
    expect(p14.states.slice(0, 3)).toBe('fnx');
    expect(p14.ageSeconds.slice(0, 3)).toEqual([60, null, 9 * HOUR]);
    expect(p14.slots.slice(0, 3)).toEqual([9, null, 9]);
    expect(p14.errors).toEqual([
      { day: 2, message: 'partner answered 503', attemptAgeSeconds: 30 },
    ]);
    expect(matrix.products[1].states).toBe(`${'n'.repeat(59)}f`);
    expect(matrix.products[2].states).toBe('n'.repeat(60));
  });

  it('counts every cell once and decodes its letters', () => {
    expect(matrix.counts).toEqual({ fresh: 2, due: 0, stale: 0, never: 177, failed: 1 });
    expect(matrix.codes).toEqual({ f: 'fresh', d: 'due', s: 'stale', n: 'never', x: 'failed' });
  });

  it('follows a custom cron: with a five-minute today window a 6-minute-old today is due', () => {
    const fast = buildSyncPolicy({ ...DEFAULT_CRONS, quarterHourly: '*/5 * * * *' }, 'UTC', NOW);
    const at = (policy: typeof fast) =>
      buildFreshnessMatrix({
        policy,
        productIds: [14],
        today: '2026-03-10',
        timeZone: 'UTC',
        now: NOW,
        rows: [
          row({
            productId: 14,
            date: '2026-03-10',
            lastAttemptAt: ago(6 * MIN),
            lastSuccessAt: ago(6 * MIN),
            lastOutcome: 'ok',
          }),
        ],
      });
    expect(at(fast).bands[0]).toEqual({
      horizon: 'today',
      fromDay: 0,
      toDay: 0,
      intervalSeconds: 300,
    });
    expect(at(fast).products[0].states[0]).toBe('d');
    expect(at(POLICY).products[0].states[0]).toBe('f');
  });
});
