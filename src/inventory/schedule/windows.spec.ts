import {
  cronIntervalMs,
  nextFireAt,
  occurrenceKey,
  planWindow,
  priorityForOffset,
  windowDates,
} from './windows';

describe('windowDates', () => {
  it.each([
    // [zone, instant, window, first, last, count]
    ['UTC', '2025-03-31T23:59:59Z', 'daily', '2025-03-31', '2025-04-29', 30],
    ['UTC', '2025-12-31T00:00:00Z', 'four-hourly', '2025-12-31', '2026-01-06', 7],
    ['UTC', '2025-12-31T12:00:00Z', 'quarter-hourly', '2025-12-31', '2025-12-31', 1],
    ['UTC', '2025-12-31T12:00:00Z', 'extended', '2026-01-30', '2026-02-28', 30],
    // Kolkata is UTC+5:30: 18:30Z is already tomorrow there.
    ['Asia/Kolkata', '2025-12-31T18:29:59Z', 'quarter-hourly', '2025-12-31', '2025-12-31', 1],
    ['Asia/Kolkata', '2025-12-31T18:30:00Z', 'quarter-hourly', '2026-01-01', '2026-01-01', 1],
    ['Asia/Kolkata', '2025-02-28T19:00:00Z', 'four-hourly', '2025-03-01', '2025-03-07', 7],
    // New York: 2025-03-09 02:00 EST → 03:00 EDT; 2025-11-02 02:00 EDT → 01:00 EST.
    ['America/New_York', '2025-03-09T04:59:00Z', 'quarter-hourly', '2025-03-08', '2025-03-08', 1],
    ['America/New_York', '2025-03-09T05:00:00Z', 'quarter-hourly', '2025-03-09', '2025-03-09', 1],
    ['America/New_York', '2025-03-10T03:59:00Z', 'quarter-hourly', '2025-03-09', '2025-03-09', 1],
    ['America/New_York', '2025-03-10T04:00:00Z', 'daily', '2025-03-10', '2025-04-08', 30],
    ['America/New_York', '2025-11-03T04:59:00Z', 'quarter-hourly', '2025-11-02', '2025-11-02', 1],
    ['America/New_York', '2025-11-03T05:00:00Z', 'quarter-hourly', '2025-11-03', '2025-11-03', 1],
    // 2024 is a leap year: the daily window crosses 29 February.
    ['America/New_York', '2024-02-01T05:00:00Z', 'daily', '2024-02-01', '2024-03-01', 30],
  ] as const)(
    'in %s at %s the %s window covers %s..%s (%i dates)',
    (zone, at, window, first, last, n) => {
      const dates = windowDates(window, new Date(at), zone);
      expect(dates).toHaveLength(n);
      expect(dates[0]).toBe(first);
      expect(dates[dates.length - 1]).toBe(last);
      expect(new Set(dates).size).toBe(n);
    },
  );
});

describe('priorityForOffset', () => {
  it.each([
    [0, 'today'],
    [1, 'week'],
    [6, 'week'],
    [7, 'later'],
    [29, 'later'],
    [59, 'later'],
  ] as const)('gives day +%i the priority %s', (offset, priority) => {
    expect(priorityForOffset(offset)).toBe(priority);
  });
});

describe('planWindow', () => {
  it('plans every product on every date of the window, today first', () => {
    const plan = planWindow('four-hourly', [14, 15], new Date('2025-04-01T10:00:00Z'), 'UTC');
    expect(plan).toHaveLength(14);
    expect(plan.slice(0, 2)).toEqual([
      { productId: 14, date: '2025-04-01', offset: 0, priority: 'today' },
      { productId: 15, date: '2025-04-01', offset: 0, priority: 'today' },
    ]);
    expect(plan[13]).toEqual({ productId: 15, date: '2025-04-07', offset: 6, priority: 'week' });
  });

  it('gives the extended window the lowest priority only', () => {
    const plan = planWindow('extended', [1], new Date('2025-04-01T10:00:00Z'), 'UTC');
    expect(new Set(plan.map((p) => p.priority))).toEqual(new Set(['later']));
    expect(plan[0].date).toBe('2025-05-01');
  });
});

describe('cron helpers', () => {
  it('fires the daily window at midnight of the configured zone, not UTC', () => {
    expect(
      nextFireAt('0 0 * * *', 'Asia/Kolkata', new Date('2025-04-01T10:00:00Z')).toISOString(),
    ).toBe('2025-04-01T18:30:00.000Z');
    expect(
      nextFireAt('0 0 * * *', 'America/New_York', new Date('2025-03-08T12:00:00Z')).toISOString(),
    ).toBe('2025-03-09T05:00:00.000Z');
    // After the spring-forward change midnight is at 04:00Z.
    expect(
      nextFireAt('0 0 * * *', 'America/New_York', new Date('2025-03-09T12:00:00Z')).toISOString(),
    ).toBe('2025-03-10T04:00:00.000Z');
  });

  it.each([
    ['*/15 * * * *', 15 * 60_000],
    ['0 */4 * * *', 4 * 3_600_000],
    ['0 0 * * *', 86_400_000],
    ['0 1 * * 0', 7 * 86_400_000],
    ['* * * * * *', 1000],
  ])('measures the interval of %s as %i ms', (cron, ms) => {
    expect(cronIntervalMs(cron, 'UTC', new Date('2025-04-01T10:07:00Z'))).toBe(ms);
  });

  it('names a scheduled occurrence by window and instant', () => {
    expect(occurrenceKey('daily', new Date('2025-04-01T00:00:00Z'))).toBe(
      'daily@2025-04-01T00:00:00.000Z',
    );
  });
});

describe('cronIntervalMs of rare schedules', () => {
  it('counts a once-a-year cron as a year instead of failing', () => {
    expect(cronIntervalMs('0 0 1 1 *', 'UTC', new Date('2025-04-01T00:00:00Z'))).toBe(
      365 * 86_400_000,
    );
  });
});
