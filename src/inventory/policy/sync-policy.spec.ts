import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import {
  buildSyncPolicy,
  compareUrgency,
  effectiveAgeSeconds,
  expectedWorstAgeSeconds,
  horizonForDay,
  isOverdue,
  lateness,
  stretchFactor,
  targetSecondsForDay,
  type SyncPolicy,
  type UrgencyFacts,
  urgency,
} from './sync-policy';

const NOW = new Date('2026-12-01T10:07:00Z');
const HOUR = 3600;
const DAY = 24 * HOUR;
/** NOW is 10:07 UTC. */
const INTO_TODAY = 10 * HOUR + 7 * 60;

/** The ids of `items` in the policy's order at 10:07. */
const idsInOrder = (policy: SyncPolicy, items: ReadonlyArray<UrgencyFacts & { id: string }>) =>
  [...items].sort((a, b) => compareUrgency(policy, a, b, INTO_TODAY)).map((i) => i.id);

describe('buildSyncPolicy', () => {
  it.each([
    ['default crons', DEFAULT_CRONS, { today: 900, week: 4 * HOUR, month: DAY, extended: 7 * DAY }],
    [
      'a five-minute quarter-hourly cron',
      { ...DEFAULT_CRONS, quarterHourly: '*/5 * * * *' },
      { today: 300, week: 4 * HOUR, month: DAY, extended: 7 * DAY },
    ],
    [
      'an hourly four-hourly cron (only +1..+6 follow: today keeps its 15 min)',
      { ...DEFAULT_CRONS, fourHourly: '0 * * * *' },
      { today: 900, week: HOUR, month: DAY, extended: 7 * DAY },
    ],
    [
      'a daily extended window',
      { ...DEFAULT_CRONS, extended: '30 2 * * *' },
      { today: 900, week: 4 * HOUR, month: DAY, extended: DAY },
    ],
    [
      'a quarter-hourly cron slower than the four-hourly one (today takes the faster)',
      { ...DEFAULT_CRONS, quarterHourly: '0 0 1 * *' },
      { today: 4 * HOUR, week: 4 * HOUR, month: DAY, extended: 7 * DAY },
    ],
  ])('derives every horizon target from the crons: %s', (_name, crons, targets) => {
    const policy = buildSyncPolicy(crons, 'UTC', NOW);
    expect(Object.fromEntries(policy.horizons.map((h) => [h.name, h.targetSeconds]))).toEqual(
      targets,
    );
  });

  it('names the windows that cover each horizon and ends at today + 59', () => {
    const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW);
    expect(policy.horizons.map((h) => [h.name, h.fromDay, h.toDay, h.windows])).toEqual([
      ['today', 0, 0, ['quarter-hourly', 'four-hourly', 'daily']],
      ['week', 1, 6, ['four-hourly', 'daily']],
      ['month', 7, 29, ['daily']],
      ['extended', 30, 59, ['extended']],
    ]);
    expect(policy.lastDay).toBe(59);
  });

  it('measures a cron in the sync time zone (a 4-hourly cron stays 4 h across a DST change)', () => {
    const policy = buildSyncPolicy(
      DEFAULT_CRONS,
      'America/New_York',
      new Date('2026-11-01T02:00:00Z'),
    );
    expect(horizonForDay(policy, 3).targetSeconds).toBe(4 * HOUR);
  });
});

describe('horizonForDay / targetSecondsForDay', () => {
  const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW);
  it.each([
    [0, 'today', 900],
    [1, 'week', 4 * HOUR],
    [6, 'week', 4 * HOUR],
    [7, 'month', DAY],
    [29, 'month', DAY],
    [30, 'extended', 7 * DAY],
    [59, 'extended', 7 * DAY],
    [75, 'extended', 7 * DAY],
  ])('day %i is in %s with a target of %i s', (day, name, target) => {
    expect(horizonForDay(policy, day).name).toBe(name);
    expect(targetSecondsForDay(policy, day)).toBe(target);
  });
});

describe('lateness and the order', () => {
  const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW);

  it.each([
    [null, 900, Infinity],
    [0, 900, 0],
    [450, 900, 0.5],
    [1800, 900, 2],
    [-5, 900, 0],
  ])('age %p with target %i is %p late', (age, target, expected) => {
    expect(lateness(age, target)).toBe(expected);
  });

  it.each([
    // age ÷ target, share, lateness the order uses
    [0.5, 0.2, 0.5],
    [1, 0.2, 1],
    [1.1, 0.1, 2],
    [1.66, 0.1, 7.6],
    [1.66, 1, 1.66],
  ])('%p × its target with a share of %p ranks %p', (relative, share, expected) => {
    expect(lateness(relative * 1000, 1000, share)).toBeCloseTo(expected, 9);
  });

  it('over capacity gives +30..+59 a tenth of the stretch; within it, a share that counts time overdue', () => {
    const share = (stretch: number) =>
      buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW, stretch).horizons.map((h) => h.stretchShare);
    // Within capacity: today 0.01, the rest 1 day ÷ target (4 h → 6, 24 h → 1, 7 d → 1/7).
    expect(share(0.83)).toEqual([0.01, 6, 1, 1 / 7]);
    expect(share(1)).toEqual([0.01, 6, 1, 1 / 7]);
    expect(share(1.66)).toEqual([1, 1, 1, 0.1]);
    expect(buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW).stretch).toBe(1);
  });

  it.each([
    // age ÷ target of each, then the lateness within capacity: 1 + days overdue
    ['+3 at 1.6 × 4 h (2.4 h overdue)', { day: 3, ageSeconds: 1.6 * 4 * HOUR }, 1.1],
    ['+10 at 1.4 × 24 h (9.6 h overdue)', { day: 10, ageSeconds: 1.4 * DAY }, 1.4],
    ['+40 at 1.05 × 7 d (8.4 h overdue)', { day: 40, ageSeconds: 1.05 * 7 * DAY }, 1.35],
    ['+20 at 0.8 × its target: not overdue, age ÷ target', { day: 20, ageSeconds: 0.8 * DAY }, 0.8],
  ])('within capacity %s ranks %p', (_name, facts, expected) => {
    expect(urgency(policy, facts, INTO_TODAY)).toBeCloseTo(expected, 9);
  });

  it('orders over capacity by age ÷ target (shares of the stretch), within capacity today first, then by time overdue', () => {
    const items: Array<UrgencyFacts & { id: string }> = [
      { id: 'today 1.2×', day: 0, ageSeconds: 1.2 * 900 },
      { id: '+3 1.6×', day: 3, ageSeconds: 1.6 * 4 * HOUR },
      { id: '+10 1.4×', day: 10, ageSeconds: 1.4 * DAY },
      { id: '+40 1.05×', day: 40, ageSeconds: 1.05 * 7 * DAY },
    ];
    const order = (stretch: number) =>
      idsInOrder(buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW, stretch), items);
    // Within: 21 (3 min overdue), 1.4 (9.6 h), 1.35 (8.4 h), 1.1 (2.4 h).
    expect(order(1)).toEqual(['today 1.2×', '+10 1.4×', '+40 1.05×', '+3 1.6×']);
    // Over: 1.6, 1 + 0.05 ÷ 0.1 = 1.5, 1.4, 1.2.
    expect(order(1.66)).toEqual(['+3 1.6×', '+40 1.05×', '+10 1.4×', 'today 1.2×']);
  });

  it('over capacity orders by age relative to target, not by horizon: a 2-day-old +10 beats a 20-min-old today', () => {
    const over = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW, 1.2);
    const items: Array<UrgencyFacts & { id: string }> = [
      { id: 'today 20 min (1.33×)', day: 0, ageSeconds: 1200 },
      { id: '+10 two days (2×)', day: 10, ageSeconds: 2 * DAY },
      { id: '+3 five hours (1.25×)', day: 3, ageSeconds: 5 * HOUR },
      { id: '+40 never', day: 40, ageSeconds: null },
      { id: 'today never', day: 0, ageSeconds: null },
      { id: '+35 one day (0.14×)', day: 35, ageSeconds: DAY },
    ];
    expect(idsInOrder(over, items)).toEqual([
      'today never',
      '+40 never',
      '+10 two days (2×)',
      'today 20 min (1.33×)',
      '+3 five hours (1.25×)',
      '+35 one day (0.14×)',
    ]);
  });

  it('within capacity a late today goes first, and the rest rank by time overdue whatever their horizon', () => {
    const items: Array<UrgencyFacts & { id: string }> = [
      { id: '+10 two days (24 h overdue)', day: 10, ageSeconds: 2 * DAY },
      { id: '+40 7.5 days (12 h overdue)', day: 40, ageSeconds: 7.5 * DAY },
      { id: '+3 five hours (1 h overdue)', day: 3, ageSeconds: 5 * HOUR },
      { id: 'today 20 min (5 min overdue)', day: 0, ageSeconds: 1200 },
      { id: '+20 20 hours (0.83×)', day: 20, ageSeconds: 20 * HOUR },
      { id: '+35 one day (0.14×)', day: 35, ageSeconds: DAY },
    ];
    expect(idsInOrder(policy, items)).toEqual([
      'today 20 min (5 min overdue)',
      '+10 two days (24 h overdue)',
      '+40 7.5 days (12 h overdue)',
      '+3 five hours (1 h overdue)',
      '+20 20 hours (0.83×)',
      '+35 one day (0.14×)',
    ]);
  });

  it.each([
    ['a synced date keeps its age', { day: 3, ageSeconds: 500 }, INTO_TODAY, 500],
    ['never-synced +59 five minutes after midnight', { day: 59, ageSeconds: null }, 300, 300],
    ['never-synced +59 at 10:07', { day: 59, ageSeconds: null }, INTO_TODAY, INTO_TODAY],
    ['never-synced +10', { day: 10, ageSeconds: null }, INTO_TODAY, 49 * DAY + INTO_TODAY],
    ['never-synced today', { day: 0, ageSeconds: null }, 0, 59 * DAY],
    ['never-synced past the range counts as just entered', { day: 75, ageSeconds: null }, 60, 60],
    // Handed over at midnight: at most the new target plus the time since entering the horizon.
    [
      '+29 with 7-day-old data, 10 min after midnight',
      { day: 29, ageSeconds: 7 * DAY },
      600,
      DAY + 600,
    ],
    [
      '+6 with 20-hour-old data at 10:07',
      { day: 6, ageSeconds: 20 * HOUR },
      INTO_TODAY,
      4 * HOUR + INTO_TODAY,
    ],
    ['today with 4-hour-old data at 00:05', { day: 0, ageSeconds: 4 * HOUR }, 300, 900 + 300],
    // The due list caps by the row's target (its last mark's), not the horizon's.
    [
      '+6 still carrying its +7 mark (24 h) with 30-hour-old data at 00:10',
      { day: 6, ageSeconds: 30 * HOUR, targetSeconds: DAY },
      600,
      DAY + 600,
    ],
    [
      '+5 one day into the week horizon keeps its 20 h',
      { day: 5, ageSeconds: 20 * HOUR },
      INTO_TODAY,
      20 * HOUR,
    ],
    [
      'today at 10:07 with 3-hour-old data keeps it',
      { day: 0, ageSeconds: 3 * HOUR },
      INTO_TODAY,
      3 * HOUR,
    ],
  ])('effective age: %s', (_name, facts, intoToday, expected) => {
    expect(effectiveAgeSeconds(policy, facts, intoToday)).toBe(expected);
  });

  // Each row: `first` must rank above `second`, whichever way round they are compared.
  it.each([
    [
      'a never-synced +59 that just entered ranks below a 20-min-old today',
      { day: 0, ageSeconds: 1200 },
      { day: 59, ageSeconds: null },
      5 * 60,
    ],
    [
      'a never-synced +59 late on its first day still ranks below a 20-min-old today',
      { day: 0, ageSeconds: 1200 },
      { day: 59, ageSeconds: null },
      23 * HOUR,
    ],
    [
      'a never-synced today on a fresh install ranks first',
      { day: 0, ageSeconds: null },
      { day: 10, ageSeconds: 2 * DAY },
      5 * 60,
    ],
    [
      'a never-synced today ranks above a never-synced +59',
      { day: 0, ageSeconds: null },
      { day: 59, ageSeconds: null },
      INTO_TODAY,
    ],
    [
      'a never-synced +10 ranks above a fresh +3',
      { day: 10, ageSeconds: null },
      { day: 3, ageSeconds: 60 },
      INTO_TODAY,
    ],
    [
      'a 20-min-old today ranks above a +6 handed over at midnight with 20-hour-old data (00:10)',
      { day: 0, ageSeconds: 1200 },
      { day: 6, ageSeconds: 20 * HOUR },
      600,
    ],
    [
      'a +29 handed over with 7-day-old data ranks above a +20 at its target (00:10)',
      { day: 29, ageSeconds: 7 * DAY },
      { day: 20, ageSeconds: DAY },
      600,
    ],
    [
      // Over capacity the +45 goes first ("+40 never" in the over-capacity order test).
      'within capacity a 20-min-old today ranks above a never-synced +45 (shown two weeks)',
      { day: 0, ageSeconds: 1200 },
      { day: 45, ageSeconds: null },
      INTO_TODAY,
    ],
  ])('%s', (_name, first: UrgencyFacts, second: UrgencyFacts, intoToday) => {
    expect(compareUrgency(policy, first, second, intoToday)).toBeLessThan(0);
    expect(compareUrgency(policy, second, first, intoToday)).toBeGreaterThan(0);
  });

  it.each([
    [{ day: 0, ageSeconds: 899 }, false],
    // At its target exactly it is still fresh (markDue: last_success_at >= now() - target).
    [{ day: 0, ageSeconds: 900 }, false],
    [{ day: 0, ageSeconds: 901 }, true],
    [{ day: 5, ageSeconds: 3 * HOUR }, false],
    [{ day: 5, ageSeconds: 5 * HOUR }, true],
    [{ day: 45, ageSeconds: 6 * DAY }, false],
    [{ day: 45, ageSeconds: null }, true],
    // The boot rule still marks a date that just entered: never synced is always overdue.
    [{ day: 59, ageSeconds: null }, true],
  ])('%p is overdue: %p', (facts, overdue) => {
    expect(isOverdue(policy, facts)).toBe(overdue);
  });
});

describe('stretch', () => {
  const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW);

  it.each([
    [319, 43_200, 319 / 43_200],
    [71_700, 43_200, 71_700 / 43_200],
    [10, 0, Infinity],
    [0, 0, 1],
  ])('%i calls needed for %i allowed stretch by %p', (needed, allowed, factor) => {
    expect(stretchFactor(needed, allowed)).toBe(factor);
  });

  it('stretches every horizon by the same factor over capacity (+30..+59 by a tenth of it), never below its target', () => {
    expect(expectedWorstAgeSeconds(policy, 0.2)).toEqual({
      today: 900,
      week: 4 * HOUR,
      month: DAY,
      extended: 7 * DAY,
    });
    expect(expectedWorstAgeSeconds(policy, 2)).toEqual({
      today: 1800,
      week: 8 * HOUR,
      month: 2 * DAY,
      extended: Math.round(7 * DAY * 1.1),
    });
  });
});
