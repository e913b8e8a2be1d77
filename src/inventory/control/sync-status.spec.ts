import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import { addDays } from '../calendar';
import { buildSyncPolicy } from '../policy/sync-policy';
import { oldestAges } from './sync-status.service';

const TODAY = '2025-12-31';
const NOW = new Date('2025-12-31T12:00:00Z');
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
const POLICY = buildSyncPolicy(DEFAULT_CRONS, 'UTC', NOW);

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
    [
      'everything synced a minute ago',
      successes(60),
      { today: 60, week: 60, month: 60, extended: 60 },
    ],
    [
      'nothing synced yet',
      new Map<string, Date>(),
      { today: null, week: null, month: null, extended: null },
    ],
    [
      'the oldest date of each horizon wins',
      successes(60, { 0: 30, 3: 900, 12: 4000, 45: 7200 }),
      { today: 30, week: 900, month: 4000, extended: 7200 },
    ],
    [
      'one never-synced date makes its horizon unknown',
      successes(60, { 6: null }),
      { today: 60, week: null, month: 60, extended: 60 },
    ],
    [
      'day +7 counts as the month, across the year end; +30 as extended',
      successes(60, { 7: 5000, 30: 6000 }),
      { today: 60, week: 60, month: 5000, extended: 6000 },
    ],
  ])('%s', (_name, map, expected) => {
    expect(oldestAges(POLICY, TODAY, NOW, map)).toEqual(expected);
  });
});
