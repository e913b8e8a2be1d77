import { calendarDateProblem, productIdProblem, quote } from './read-input';

describe('read API input rules', () => {
  it.each([
    ['14', undefined],
    ['1', undefined],
    ['2147483647', undefined],
    ['2147483648', 'between 1 and 2147483647'],
    ['0', 'got "0"'],
    ['-1', 'got "-1"'],
    ['014', 'got "014"'],
    ['1.0', 'got "1.0"'],
    ['1e3', 'got "1e3"'],
    [' 14', 'got " 14"'],
    ['+14', 'got "+14"'],
    ['99999999999', 'got "99999999999"'],
    ['sync', 'got "sync"'],
    [['14', '15'], 'productId must be a positive integer'],
  ])('productIdProblem(%j) → %j', (value, expected) => {
    const problem = productIdProblem(value);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(expected);
  });

  it.each([
    ['2025-04-03', undefined],
    ['2024-02-29', undefined],
    ['9999-12-31', undefined],
    ['2025-02-29', 'got "2025-02-29"'],
    [
      '2025-02-30',
      'date must be a calendar date in YYYY-MM-DD format, e.g. 2025-04-03, got "2025-02-30"',
    ],
    ['2025-13-01', 'got "2025-13-01"'],
    ['0000-01-01', 'got "0000-01-01"'],
    ['today', 'got "today"'],
    ['', 'got ""'],
    [undefined, 'date is required'],
    [
      ['2025-04-03', '2025-04-04'],
      'date must be given once, as a calendar date in YYYY-MM-DD format, e.g. 2025-04-03; got 2 values',
    ],
    [{ x: '1' }, 'date must be a calendar date in YYYY-MM-DD format'],
  ])('calendarDateProblem(%j) → %j', (value, expected) => {
    const problem = calendarDateProblem(value);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(expected);
  });

  it('quotes short values whole and cuts long ones (counting characters, not UTF-16 units)', () => {
    expect(quote('abc')).toBe('"abc"');
    expect(quote('x'.repeat(100))).toBe(`"${'x'.repeat(40)}…"`);
    expect(quote('😀'.repeat(41))).toBe(`"${'😀'.repeat(40)}…"`);
  });
});
