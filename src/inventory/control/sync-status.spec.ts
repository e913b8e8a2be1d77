import { addDays } from '../calendar';
import { oldestAges } from './sync-status.service';

const TODAY = '2025-12-31';
const NOW = new Date('2025-12-31T12:00:00Z');
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);

/** Every date 0..59 synced `seconds` ago, with per-offset overrides (null = never synced). */
function successes(
  seconds: number,
  overrides: Record<number, number | null> = {},
): Map<string, Date> {
  const m = new Map<string, Date>();
  for (let o = 0; o <= 59; o++) {
    const s = o in overrides ? overrides[o] : seconds;
    if (s !== null) m.set(addDays(TODAY, o), ago(s));
  }
  return m;
}

describe('oldestAges', () => {
  it.each([
    ['everything synced a minute ago', successes(60), { today: 60, week: 60, rest: 60 }],
    ['nothing synced yet', new Map<string, Date>(), { today: null, week: null, rest: null }],
    [
      'the oldest date of each range wins',
      successes(60, { 0: 30, 3: 900, 45: 7200 }),
      { today: 30, week: 900, rest: 7200 },
    ],
    [
      'one never-synced date makes its range unknown',
      successes(60, { 6: null }),
      { today: 60, week: null, rest: 60 },
    ],
    [
      'day +7 counts as the rest, across the year end',
      successes(60, { 7: 5000 }),
      { today: 60, week: 60, rest: 5000 },
    ],
  ])('%s', (_name, map, expected) => {
    expect(oldestAges(TODAY, NOW, map)).toEqual(expected);
  });
});
