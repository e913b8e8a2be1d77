import { etagOf } from './http-cache';
import { cachedRead, type CachedRead } from './read-cache';
import { withoutPastDates } from './stale-dates';

function datesRead(dates: string[]): CachedRead {
  const json = JSON.stringify({ dates: dates.map((date) => ({ date, price: { finalPrice: 1 } })) });
  return { ...cachedRead(json, null, new Date()), stale: true };
}

describe('withoutPastDates', () => {
  it.each<[string, string[], string, string[]]>([
    [
      'keeps a list loaded today',
      ['2026-12-01', '2026-12-03'],
      '2026-12-01',
      ['2026-12-01', '2026-12-03'],
    ],
    [
      'drops yesterday after midnight',
      ['2026-11-30', '2026-12-01', '2026-12-03'],
      '2026-12-01',
      ['2026-12-01', '2026-12-03'],
    ],
    ['may leave nothing', ['2026-11-29', '2026-11-30'], '2026-12-01', []],
  ])('%s', (_what, dates, today, expected) => {
    const before = datesRead(dates);
    const after = withoutPastDates(before, today);
    const body = JSON.parse(after.body.toString()) as { dates: Array<{ date: string }> };
    expect(body.dates.map((d) => d.date)).toEqual(expected);
    expect(after.etag).toBe(etagOf(after.body));
    expect(after.etag === before.etag).toBe(expected.length === dates.length);
    expect(after.stale).toBe(true);
  });
});
