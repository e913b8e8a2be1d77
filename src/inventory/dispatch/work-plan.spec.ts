import type { RankedEntry, RankReason } from '../due/value-rank.repository';
import { WorkPlan } from './work-plan';

const entry = (productId: number, date: string, why: RankReason, value = 0): RankedEntry => ({
  productId,
  date,
  reason: why,
  manual: false,
  failedAttempts: 0,
  why,
  value,
  deadline: new Date(0),
  changeRatePerHour: 0,
  readsPerHour: 0,
});

const keys = (entries: RankedEntry[]): string[] => entries.map((e) => `${e.productId}:${e.date}`);
const none = (): boolean => false;

describe('WorkPlan', () => {
  const ranked = [
    entry(1, '2026-12-07', 'floor'),
    entry(2, '2026-12-07', 'floor'),
    entry(3, '2026-12-08', 'never'),
    entry(4, '2026-12-09', 'value', 5),
    entry(1, '2026-12-07', 'value', 2), // forced and valuable: taken once
    entry(5, '2026-12-10', 'due'),
  ];

  it('takes the floor first, then the spare lists in their order, each product-date once', () => {
    const plan = new WorkPlan();
    plan.load(ranked, 1000, { rankMs: 5, forcedBuckets: 2 });
    expect(keys(plan.take(10, 10, none))).toEqual([
      '1:2026-12-07',
      '2:2026-12-07',
      '3:2026-12-08',
      '4:2026-12-09',
      '5:2026-12-10',
    ]);
    expect(plan.usedUp(true)).toBe(true);
  });

  it('without spare room takes only the floor', () => {
    const plan = new WorkPlan();
    plan.load(ranked, 1000, { rankMs: 5, forcedBuckets: 2 });
    expect(keys(plan.take(10, 0, none))).toEqual(['1:2026-12-07', '2:2026-12-07']);
    expect(plan.usedUp(false)).toBe(true);
    expect(plan.usedUp(true)).toBe(false);
    // Room comes back: the spare lists go on where they were.
    expect(keys(plan.take(10, 1, none))).toEqual(['3:2026-12-08']);
  });

  it('bounds a turn by its room and the spare calls by the spare room', () => {
    const plan = new WorkPlan();
    plan.load(ranked, 1000, { rankMs: 5, forcedBuckets: 2 });
    expect(keys(plan.take(3, 5, none))).toEqual(['1:2026-12-07', '2:2026-12-07', '3:2026-12-08']);
    expect(keys(plan.take(1, 5, none))).toEqual(['4:2026-12-09']);
  });

  it('skips what is in flight, and forgets everything on clear', () => {
    const plan = new WorkPlan();
    plan.load(ranked, 1000, { rankMs: 5, forcedBuckets: 2 });
    const busy = (key: string): boolean => key === '2:2026-12-07' || key === '4:2026-12-09';
    expect(keys(plan.take(3, 5, busy))).toEqual(['1:2026-12-07', '3:2026-12-08', '5:2026-12-10']);
    plan.clear();
    expect(plan.rankedAt).toBe(-Infinity);
    expect(plan.take(5, 5, none)).toEqual([]);
  });

  it('shows each list, what is left and the next ones in order', () => {
    const plan = new WorkPlan();
    expect(plan.snapshot().rankedAt).toBeNull();
    plan.load(ranked, 60_000, { rankMs: 7, forcedBuckets: 3 });
    plan.take(1, 0, none);
    const s = plan.snapshot(3);
    expect(s).toMatchObject({
      rankedAt: new Date(60_000),
      rankMs: 7,
      forcedBuckets: 3,
      lists: {
        floor: { ranked: 2, left: 1 },
        never: { ranked: 1, left: 1 },
        value: { ranked: 2, left: 2 },
        due: { ranked: 1, left: 1 },
      },
    });
    expect(keys(s.next)).toEqual(['2:2026-12-07', '3:2026-12-08', '4:2026-12-09']);
  });
});
