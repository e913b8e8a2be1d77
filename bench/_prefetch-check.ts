// Idle heaps vs a full scan per idle turn: same end state (ages and due marks) on short runs.
import { SYNC_WINDOWS } from '../src/inventory/sync-window';
import { DAY, MEASURED_DAY, MODEL_RUN, simulateDueList } from './_sync-model';
for (const [products, keys, days] of [
  [2, 1, 3],
  [60, 2, 3],
  [120, 1, 2],
] as const) {
  for (const prefetch of [{ minFraction: 0.5 }, { minFraction: 0.75, tickSkipBelow: 0.5 }]) {
    const run = (scan: boolean) => {
      const t = Date.now();
      const r = simulateDueList({
        ...MODEL_RUN,
        windows: SYNC_WINDOWS,
        products,
        keys,
        start: new Date(MEASURED_DAY - days * DAY),
        warmupMs: days * DAY,
        prefetch: { ...prefetch, scan },
      });
      return { r, ms: Date.now() - t };
    };
    const a = run(false);
    const b = run(true);
    const same =
      a.r.endAges.every((x, i) => x === b.r.endAges[i]) &&
      a.r.endDue.every((x, i) => x === b.r.endDue[i]) &&
      a.r.prefetches === b.r.prefetches;
    console.log(
      `${products}x${keys} ${JSON.stringify(prefetch)}: prefetches ${a.r.prefetches} vs ${b.r.prefetches}, same end state: ${same ? 'yes' : 'NO'} (heaps ${a.ms} ms, scan ${b.ms} ms)`,
    );
    if (!same) process.exitCode = 1;
  }
}
