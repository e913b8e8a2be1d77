/**
 * The value of a call (issue 26): how many reads syncing a product-date now is expected to turn
 * from stale into fresh, from its read rate μ (reads/s), its change rate λ (changes/s) and the
 * age a (s) of its copy. The TypeScript evaluation and the SQL fragment the due list ranks by are
 * held together by call-value.spec.ts (random rows, real PostgreSQL and PGlite).
 *
 * The form is the marginal gain of a periodic refresh (the Lagrangian of Azar et al.'s objective,
 * Σ μ·P(fresh), under a fixed number of calls; Olston & Pandey's threshold rule):
 *   value = μ · [(1 − e^{−λa}) ÷ λ − a·e^{−λa}] = μ · a · g(λa),  g(x) = (1 − e^{−x} − x·e^{−x}) ÷ x.
 * Refreshing every T, a copy serves μ·[T − (1 − e^{−λT})/λ] stale reads per period; the budget
 * is best spent when each item is refreshed as soon as this value reaches one common threshold, so
 * a greedy "highest value first" turn by turn spends the calls as the optimum would. It grows
 * with the age (so nothing with reads and changes waits for ever: Kolobov et al.'s concern) and
 * is bounded by μ ÷ λ, so a product-date changing much faster than it can be followed stops
 * pulling calls, where the simpler μ·(1 − e^{−λa}) (the rate of stale reads now) keeps it at μ
 * and spends the budget chasing it. The model compares the two (BENCHMARKS.md, accuracy).
 *
 * Units: reads. Only the order matters, so μ may be in any unit common to all rows.
 */
import { Prisma } from '../../generated/prisma/client';
import { expectedWorstAgeSeconds, type HorizonName, type SyncPolicy } from './sync-policy';

/** Below this λa, g's closed form loses digits to cancellation; its series is exact to 1e-16. */
export const SERIES_BELOW = 1e-4;
/** Above this λa, e^{−λa} is below 1e-304 (PostgreSQL's exp underflows with an error): g = 1/x. */
export const EXP_ABOVE = 700;

/** g(x) = (1 − e^{−x} − x·e^{−x}) ÷ x for x ≥ 0 (0 at 0, → 1/x as x grows). */
export function gainShape(x: number): number {
  if (!(x > 0)) return 0;
  if (x < SERIES_BELOW) return x / 2 - (x * x) / 3;
  if (x > EXP_ABOVE) return 1 / x;
  return (1 - Math.exp(-x) - x * Math.exp(-x)) / x;
}

/**
 * The value of syncing now: μ · a · g(λa). A copy never synced is worth its reads over the
 * changes' time scale (the limit as a grows, μ ÷ λ); with no reads or no changes it is 0.
 */
export function callValue(readRate: number, changeRate: number, ageSeconds: number | null): number {
  if (!(readRate > 0) || !(changeRate > 0)) return 0;
  if (ageSeconds === null || !Number.isFinite(ageSeconds)) return readRate / changeRate;
  const a = Math.max(0, ageSeconds);
  return readRate * a * gainShape(changeRate * a);
}

/** The simpler form: reads per second served stale now, μ · (1 − e^{−λa}). */
export function staleReadRate(
  readRate: number,
  changeRate: number,
  ageSeconds: number | null,
): number {
  if (!(readRate > 0) || !(changeRate > 0)) return 0;
  if (ageSeconds === null || !Number.isFinite(ageSeconds)) return readRate;
  return readRate * -Math.expm1(-changeRate * Math.max(0, ageSeconds));
}

/**
 * The SQL of `callValue`: `readRate`, `changeRate` (float8 expressions) and `ageSeconds` (a float8
 * expression, NULL when never synced).
 */
export const callValueSql = (input: {
  readRate: Prisma.Sql;
  changeRate: Prisma.Sql;
  ageSeconds: Prisma.Sql;
}): Prisma.Sql => {
  const mu = input.readRate;
  const lambda = input.changeRate;
  const a = Prisma.sql`GREATEST(0::float8, ${input.ageSeconds})`;
  const x = Prisma.sql`(${lambda} * ${a})`;
  return Prisma.sql`(CASE
    WHEN NOT (${mu} > 0) OR NOT (${lambda} > 0) THEN 0::float8
    WHEN ${input.ageSeconds} IS NULL THEN ${mu} / ${lambda}
    WHEN ${x} <= 0 THEN 0::float8
    WHEN ${x} < ${SERIES_BELOW}::float8 THEN ${mu} * ${a} * (${x} / 2 - ${x} * ${x} / 3)
    WHEN ${x} > ${EXP_ABOVE}::float8 THEN ${mu} * ${a} / ${x}
    ELSE ${mu} * ${a} * (1 - exp(-${x}) - ${x} * exp(-${x})) / ${x}
  END)`;
};

/**
 * Over capacity, how far past its expected worst age (the stretched target the urgency order
 * reaches) each horizon may get: the floor. These are the bounds the issue keeps at 450 products
 * on one key (30 min, 12 h, 48 h, 8 d) over the expected worst ages there (25 min, 6.6 h, 40 h,
 * 7.5 d), so they scale with the stretch. Without room above the urgency order's ages the floor
 * alone takes the whole budget and the value never decides anything; this room is what the value
 * spends where reads see changes. Within capacity the floor is the target (the crons' promise).
 */
export const OVER_CAPACITY_FLOOR_MARGIN: Readonly<Record<HorizonName, number>> = {
  today: 1.2,
  week: 1.8,
  month: 1.2,
  extended: 1.07,
};

/**
 * The floor's rows are scheduled as late as their deadlines allow at this share of the budget's
 * pace, earliest deadline first: the rest of the pace is room for what the plan does not see
 * (manual runs, retries, a burst of marks at a tick).
 */
export const FLOOR_PACE = 0.8;

/**
 * Each horizon's hard maximum age (s): its expected worst age, × its margin over capacity.
 * `withinCapacity` is for the model's variants (BENCHMARKS, Accuracy): 1, the service's, keeps
 * the crons' promise (the targets); a number scales every target; `margin` grows each target to
 * stretch × its over-capacity margin where that is larger (no jump at stretch 1).
 */
export function floorSeconds(
  policy: SyncPolicy,
  withinCapacity: number | 'margin' = 1,
): Record<HorizonName, number> {
  const worst = expectedWorstAgeSeconds(policy, policy.stretch);
  const scale = (h: HorizonName): number => {
    if (policy.stretch > 1) return OVER_CAPACITY_FLOOR_MARGIN[h];
    if (withinCapacity === 'margin')
      return Math.max(1, policy.stretch * OVER_CAPACITY_FLOOR_MARGIN[h]);
    return withinCapacity;
  };
  return Object.fromEntries(
    policy.horizons.map((h) => [h.name, Math.round(worst[h.name] * scale(h.name))]),
  ) as Record<HorizonName, number>;
}

/**
 * The value rule's clock, in units of the partner's rate window (60 s at the partner's defaults),
 * so that a run with time compressed (a 1 s window) keeps the same proportions:
 * - `rerankMs`: how often the leader ranks (a third of a window: 10 calls of a 30/min key);
 * - `marginMs`: room kept ahead of the floor's deadlines (six ranks: a row forced just after a
 *   rank waits for the next one);
 * - `bucketMs`: the floor's deadlines are counted per this much time ahead;
 * - `usedUpMs`: lists used up before their next rank are ranked again at most this often;
 * - `pollMs`: an idle dispatcher looks again after this (half a call's spacing at the partner's
 *   30 calls a window: a window's spare room, once full, is seen again within a call's time).
 */
export function valueRuleTiming(windowMs: number): {
  rerankMs: number;
  marginMs: number;
  bucketMs: number;
  usedUpMs: number;
  pollMs: number;
} {
  const rerankMs = windowMs / 3;
  return {
    rerankMs,
    marginMs: 6 * rerankMs,
    bucketMs: windowMs,
    usedUpMs: windowMs / 12,
    pollMs: windowMs / 60,
  };
}

/** The timing at the partner's 60 s window (20 s, 120 s, 60 s, 5 s, 1 s). */
const PARTNER_TIMING = valueRuleTiming(60_000);
export const VALUE_RERANK_MS = PARTNER_TIMING.rerankMs;
export const FLOOR_MARGIN_MS = PARTNER_TIMING.marginMs;
export const FLOOR_BUCKET_MS = PARTNER_TIMING.bucketMs;

/** How many product-dates' floor deadlines fall in one bucket ahead of now (0: due already). */
export interface DeadlineBucket {
  bucket: number;
  count: number;
}

/**
 * Earliest deadline first, planned backwards: the rows whose deadlines fall before the end of the
 * returned number of buckets must be taken now, because at `perMs` calls per ms (FLOOR_PACE of
 * the keys' pace) the calls for every row up to a bucket's end, plus `marginMs`, would not fit
 * before that end otherwise. 0: no row is forced yet, the floor leaves the turn to the value.
 * `buckets` in ascending order, each bucket once.
 */
export function floorForcedBuckets(
  buckets: readonly DeadlineBucket[],
  perMs: number,
  marginMs: number,
  bucketMs = FLOOR_BUCKET_MS,
): number {
  if (!(perMs > 0)) return buckets.length > 0 ? buckets[buckets.length - 1].bucket + 1 : 0;
  let cum = 0;
  let forced = 0;
  for (const { bucket, count } of buckets) {
    cum += count;
    if (count > 0 && cum / perMs + marginMs >= (bucket + 1) * bucketMs) forced = bucket + 1;
  }
  return forced;
}
