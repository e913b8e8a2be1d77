import { FLOOR_BUCKET_MS, floorForcedBuckets, type DeadlineBucket } from './call-value';

const MIN = 60_000;

/** The same rule by brute force: every bucket end whose rows' calls, from now, would miss it. */
function bruteForce(counts: number[], perMs: number, marginMs: number): number {
  let forced = 0;
  for (let b = 0; b < counts.length; b++) {
    const before = counts.slice(0, b + 1).reduce((a, c) => a + c, 0);
    if (counts[b] > 0 && before / perMs + marginMs >= (b + 1) * MIN) forced = b + 1;
  }
  return forced;
}

const sparse = (counts: number[]): DeadlineBucket[] =>
  counts.flatMap((count, bucket) => (count > 0 ? [{ bucket, count }] : []));

describe('floorForcedBuckets (the floor planned earliest deadline first)', () => {
  it('forces nothing when every deadline is far and the calls fit', () => {
    // 1 call a minute, rows an hour ahead: nothing needs to go now.
    expect(floorForcedBuckets([{ bucket: 60, count: 5 }], 1 / MIN, 2 * MIN)).toBe(0);
  });

  it('forces whatever is due already (bucket 0) when the margin reaches past it', () => {
    expect(floorForcedBuckets([{ bucket: 0, count: 1 }], 1 / MIN, 2 * MIN)).toBe(1);
  });

  it('forces up to the last bucket the calls before it would miss, not past it', () => {
    // 10 rows 5 minutes ahead at 1 call a minute: 10 min of calls > 6 min: forced. 1 row an hour
    // ahead: its own call fits.
    const buckets = [
      { bucket: 5, count: 10 },
      { bucket: 60, count: 1 },
    ];
    expect(floorForcedBuckets(buckets, 1 / MIN, 0)).toBe(6);
    // A faster pace fits them all.
    expect(floorForcedBuckets(buckets, 10 / MIN, 0)).toBe(0);
  });

  it('with no pace at all forces everything there is', () => {
    expect(floorForcedBuckets([{ bucket: 3, count: 1 }], 0, 0)).toBe(4);
    expect(floorForcedBuckets([], 0, 0)).toBe(0);
  });

  it('agrees with the brute force on random histograms', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let trial = 0; trial < 200; trial++) {
      const counts = Array.from({ length: 1 + Math.floor(rnd() * 50) }, () =>
        rnd() < 0.5 ? 0 : Math.floor(rnd() * 20),
      );
      const perMs = (0.1 + rnd() * 3) / MIN;
      const marginMs = rnd() * 5 * MIN;
      expect(floorForcedBuckets(sparse(counts), perMs, marginMs, FLOOR_BUCKET_MS)).toBe(
        bruteForce(counts, perMs, marginMs),
      );
    }
  });
});
