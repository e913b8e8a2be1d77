/**
 * The one freshness policy: which horizons of dates exist, how old each may get (derived from the
 * configured crons, never restated), and which product-date is the most urgent. Pure; the
 * freshness bands, status, metrics and the boot catch-up all read it.
 */
import { cronIntervalMs, cronOf, WINDOW_DAYS, type WindowCrons } from '../schedule/windows';
import { SYNC_WINDOWS, type SyncWindow } from '../sync-window';
import { MIN_SHARE, rankedSinceMs, stretched, urgencyScore, type ScoreRow } from './urgency-score';

export { MIN_SHARE };

export type HorizonName = 'today' | 'week' | 'month' | 'extended';

/** Day offsets from today (in SYNC_TIMEZONE) of each horizon, nearest first. */
export const HORIZON_DAYS: ReadonlyArray<{ name: HorizonName; fromDay: number; toDay: number }> = [
  { name: 'today', fromDay: 0, toDay: 0 },
  { name: 'week', fromDay: 1, toDay: 6 },
  { name: 'month', fromDay: 7, toDay: 29 },
  { name: 'extended', fromDay: 30, toDay: 59 },
];

export const HORIZON_NAMES: readonly HorizonName[] = HORIZON_DAYS.map((h) => h.name);

/**
 * Over capacity, the share of the stretch each horizon takes past its target. The extended
 * horizon costs 30 calls per product per week (under 3 % of the calls at the default crons), so
 * keeping it near its week costs the others about 2 %; proportional, it would reach 7 d × the
 * stretch (11.6 d at 450 products on one key).
 */
export const OVER_CAPACITY_SHARE: Readonly<Record<HorizonName, number>> = {
  today: 1,
  week: 1,
  month: 1,
  extended: 0.1,
};

/**
 * Within capacity the budget covers the schedule, so lateness is a passing backlog (a boot's
 * catch-up, the Sunday's extended run on top of the day's own work). A backlog delays every date
 * behind it by the same time, at most one drain, whatever its horizon. So past its target a date
 * ranks by how long it has been overdue, one clock for every horizon (share = 1 day ÷ target:
 * lateness 1 + overdue days), and today's dates go first (share 0.01: a minute overdue ranks
 * with a week overdue elsewhere). By age ÷ target instead, a boot's catch-up kept the extended
 * dates in step, and on the first Sunday after it +30..+59 reached 7.6 d and today p95 16 min at
 * 271 products on one key (the sync-day model before the value rule; BENCHMARKS.md's git history).
 */
export const WITHIN_CAPACITY_TODAY_SHARE = 0.01;
const OVERDUE_CLOCK_SECONDS = 86_400;
/** A horizon's share of `stretch`: OVER_CAPACITY_SHARE over capacity, else the overdue clock. */
function stretchShareOf(name: HorizonName, targetSeconds: number, stretch: number): number {
  if (stretch > 1) return OVER_CAPACITY_SHARE[name];
  if (name === 'today') return WITHIN_CAPACITY_TODAY_SHARE;
  return Math.max(MIN_SHARE, OVERDUE_CLOCK_SECONDS / Math.max(1, targetSeconds));
}

export interface Horizon {
  name: HorizonName;
  fromDay: number;
  toDay: number;
  /** The windows whose day range covers the whole horizon. */
  windows: SyncWindow[];
  /** How old the horizon's data may get: the shortest interval among those windows' crons. */
  targetSeconds: number;
  /**
   * How its lateness past its target counts: 1 ÷ share times as much. Over capacity its share of
   * the stretch (OVER_CAPACITY_SHARE); within capacity 1 day ÷ target, today 0.01.
   */
  stretchShare: number;
}

export interface SyncPolicy {
  horizons: readonly Horizon[];
  /** The capacity plan's stretch the policy was built for (calls needed ÷ calls allowed). */
  stretch: number;
  /** The last day offset any horizon covers (today + 59: the dates API's two months). */
  lastDay: number;
}

/**
 * Derives each horizon's target from the crons: a date is kept fresh by the most frequent window
 * covering it, so its target age is that window's typical interval (`*\/5 * * * *` → 300 s).
 * A horizon no window covers gets a year (its data is never refreshed on a schedule).
 * `stretch`: the capacity plan's (1 when not given); above 1 the horizons take their
 * OVER_CAPACITY_SHARE of it, up to 1 they rank past their targets by time overdue.
 */
export function buildSyncPolicy(
  crons: WindowCrons,
  timeZone: string,
  now: Date,
  stretch = 1,
): SyncPolicy {
  const horizons = HORIZON_DAYS.map(({ name, fromDay, toDay }): Horizon => {
    const windows = SYNC_WINDOWS.filter(
      (w) => WINDOW_DAYS[w].from <= fromDay && WINDOW_DAYS[w].to >= toDay,
    );
    const intervals = windows.map((w) => cronIntervalMs(cronOf(w, crons), timeZone, now));
    const targetMs = intervals.length > 0 ? Math.min(...intervals) : 365 * 86_400_000;
    const targetSeconds = Math.round(targetMs / 1000);
    return {
      name,
      fromDay,
      toDay,
      windows,
      targetSeconds,
      stretchShare: stretchShareOf(name, targetSeconds, stretch),
    };
  });
  return { horizons, stretch, lastDay: horizons[horizons.length - 1].toDay };
}

/** The horizon of a date `day` offsets from today; past the last one, the last one. */
export function horizonForDay(policy: SyncPolicy, day: number): Horizon {
  const { horizons } = policy;
  return horizons.find((h) => day >= h.fromDay && day <= h.toDay) ?? horizons[horizons.length - 1];
}

export function targetSecondsForDay(policy: SyncPolicy, day: number): number {
  return horizonForDay(policy, day).targetSeconds;
}

/**
 * How late a product-date is relative to its target: age ÷ target (1 = exactly at target); past
 * 1 the excess counts 1 ÷ `stretchShare` times (a horizon with share 0.1 ranks 1.4 where it is
 * 1.04). Never synced (null) is infinitely late: the boot rule marks it whatever its date.
 * Ordering by this (not by horizon first) stretches every horizon's worst age by its share of the
 * same factor when the budget is short, so no horizon starves; within capacity the shares make
 * the excess time overdue (see WITHIN_CAPACITY_TODAY_SHARE).
 */
export function lateness(
  ageSeconds: number | null,
  targetSeconds: number,
  stretchShare = 1,
): number {
  if (ageSeconds === null) return Infinity;
  return stretched(Math.max(0, ageSeconds) / Math.max(1, targetSeconds), stretchShare);
}

/** A product-date as the ordering sees it. */
export interface UrgencyFacts {
  /** Day offset from today. */
  day: number;
  /** Seconds since its last successful sync; null when never synced. */
  ageSeconds: number | null;
  /**
   * The target its last mark set (the due list's target_seconds); its horizon's when not given
   * (every window re-marks its dates on each tick, so the two differ only until the next one).
   */
  targetSeconds?: number;
}

/**
 * The facts as the score (urgency-score.ts) sees a row, with today's UTC midnight at 0 and `now`
 * `secondsIntoToday` after it. A date past the last day counts as the last day.
 */
function scoreRowOf(
  policy: SyncPolicy,
  facts: UrgencyFacts,
  secondsIntoToday: number,
): { row: ScoreRow; nowMs: number } {
  const day = Math.min(facts.day, policy.lastDay);
  const horizon = horizonForDay(policy, day);
  const nowMs = secondsIntoToday * 1000;
  return {
    nowMs,
    row: {
      dateMs: day * 86_400_000,
      lastSuccessMs: facts.ageSeconds === null ? null : nowMs - facts.ageSeconds * 1000,
      targetSeconds: facts.targetSeconds ?? horizon.targetSeconds,
      toDay: horizon.toDay,
      share: horizon.stretchShare,
    },
  };
}

/**
 * The age the order uses (the score's ranked age, urgency-score.ts), which counts for less than
 * the data's age in two cases.
 * - Never synced: as old as the time since the date entered the range (as today + lastDay, at a
 *   midnight). Each midnight brings N new never-synced dates at the far end; as "infinitely late"
 *   they would go ahead of today every time. A date shown for weeks (today on a fresh install) is
 *   still the latest of all.
 * - Handed over: at each midnight a date moves into a nearer horizon with data kept under the
 *   farther one's target (+30 becomes +29 with 7-day-old data against 24 h, +1 becomes today
 *   with 4-hour-old data against 15 min). It counts as just due when it enters (its new target)
 *   and ages from there. By its real age it would be 5 to 20 times late every midnight, and the
 *   3 × N dates handed over went ahead of everything, today included, for the first hour.
 * `secondsIntoToday`: since today's UTC midnight (the midnights the due list's SQL counts).
 */
export function effectiveAgeSeconds(
  policy: SyncPolicy,
  facts: UrgencyFacts,
  secondsIntoToday: number,
): number {
  const { row, nowMs } = scoreRowOf(policy, facts, secondsIntoToday);
  return Math.max(0, (nowMs - rankedSinceMs(row, policy.lastDay)) / 1000);
}

/** Lateness for the order: the score (effective age ÷ the date's target, stretched). */
export function urgency(policy: SyncPolicy, facts: UrgencyFacts, secondsIntoToday: number): number {
  const { row, nowMs } = scoreRowOf(policy, facts, secondsIntoToday);
  return urgencyScore(row, nowMs, policy.lastDay);
}

/**
 * The policy's order (for sort): the latest first by `urgency` (the effective age: never synced
 * by how long it has been shown, handed over by how long it has been nearer); among equally late
 * ones the nearer date first, since users look at it sooner.
 */
export function compareUrgency(
  policy: SyncPolicy,
  a: UrgencyFacts,
  b: UrgencyFacts,
  secondsIntoToday: number,
): number {
  const la = urgency(policy, a, secondsIntoToday);
  const lb = urgency(policy, b, secondsIntoToday);
  if (la !== lb) return la > lb ? -1 : 1;
  return a.day - b.day;
}

/**
 * True when the date's data is older than its target (or was never synced): it needs a fetch. The
 * boot rule as markDue's SQL applies it: data exactly at its target is still fresh.
 */
export function isOverdue(policy: SyncPolicy, facts: UrgencyFacts): boolean {
  return facts.ageSeconds === null || facts.ageSeconds > targetSecondsForDay(policy, facts.day);
}

/** Calls needed ÷ calls available; below 1 the schedule fits and nothing stretches. */
export function stretchFactor(callsNeeded: number, callsAllowed: number): number {
  if (callsAllowed <= 0) return callsNeeded > 0 ? Infinity : 1;
  return callsNeeded / callsAllowed;
}

/**
 * The worst age each horizon should reach when work is ordered by lateness: its target, stretched
 * by its share of the over-capacity factor (never shrunk below the target when there is room to
 * spare). The horizons with a full share stretch a little more than the factor, by what the
 * others give up (about 2 % at the default crons).
 */
export function expectedWorstAgeSeconds(
  policy: SyncPolicy,
  stretch: number,
): Record<HorizonName, number> {
  const excess = Math.max(1, stretch) - 1;
  return Object.fromEntries(
    policy.horizons.map((h) => [
      h.name,
      Math.round(h.targetSeconds * (1 + excess * stretchShareOf(h.name, h.targetSeconds, stretch))),
    ]),
  ) as Record<HorizonName, number>;
}
