import {
  addDays,
  addMonths,
  dateRange,
  daysBetween,
  fromDbDate,
  isCalendarDate,
  todayIn,
  toDbDate,
} from './calendar';

describe('calendar', () => {
  it.each([
    ['2025-04-03', true],
    ['2024-02-29', true],
    ['2025-02-29', false],
    ['2025-02-30', false],
    ['2025-13-01', false],
    ['2025-00-10', false],
    ['2025-04-31', false],
    ['2025-4-3', false],
    ['today', false],
    ['', false],
    ['2025-04-03T00:00', false],
  ])('isCalendarDate(%j) is %s', (value, expected) => {
    expect(isCalendarDate(value)).toBe(expected);
  });

  it.each([
    // 2025-03-31 20:00 UTC is already April 1st in Kolkata (+05:30) but still March 31st in New York.
    ['2025-03-31T20:00:00Z', 'UTC', '2025-03-31'],
    ['2025-03-31T20:00:00Z', 'Asia/Kolkata', '2025-04-01'],
    ['2025-03-31T20:00:00Z', 'America/New_York', '2025-03-31'],
    ['2025-01-01T03:00:00Z', 'America/New_York', '2024-12-31'],
    ['2024-12-31T19:00:00Z', 'Asia/Kolkata', '2025-01-01'],
    // DST change day in New York (2025-03-09): local midnight is 05:00 UTC.
    ['2025-03-09T04:59:00Z', 'America/New_York', '2025-03-08'],
    ['2025-03-09T05:00:00Z', 'America/New_York', '2025-03-09'],
  ])('todayIn at %s in %s is %s', (instant, zone, expected) => {
    expect(todayIn(zone, new Date(instant))).toBe(expected);
  });

  it.each([
    ['2025-01-31', 1, '2025-02-01'],
    ['2024-12-31', 1, '2025-01-01'],
    ['2024-02-28', 1, '2024-02-29'],
    ['2025-03-08', 1, '2025-03-09'],
    ['2025-03-01', -1, '2025-02-28'],
    ['2025-11-25', 59, '2026-01-23'],
  ])('addDays(%s, %i) is %s', (date, n, expected) => {
    expect(addDays(date, n)).toBe(expected);
  });

  it.each([
    ['2025-01-31', 1, '2025-02-28'],
    ['2024-01-31', 1, '2024-02-29'],
    ['2025-11-25', 2, '2026-01-25'],
    ['2025-12-31', 2, '2026-02-28'],
  ])('addMonths(%s, %i) is %s', (date, n, expected) => {
    expect(addMonths(date, n)).toBe(expected);
  });

  it('counts days and builds ranges across a year end', () => {
    expect(daysBetween('2025-12-30', '2026-01-02')).toBe(3);
    expect(dateRange('2025-12-30', 4)).toEqual([
      '2025-12-30',
      '2025-12-31',
      '2026-01-01',
      '2026-01-02',
    ]);
    expect(dateRange('2025-12-30', 0)).toEqual([]);
  });

  it('converts to and from the database representation of a date', () => {
    expect(toDbDate('2025-04-03').toISOString()).toBe('2025-04-03T00:00:00.000Z');
    expect(fromDbDate(toDbDate('2025-04-03'))).toBe('2025-04-03');
  });
});
