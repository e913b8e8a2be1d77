import { CronTime } from 'cron';
import type { JobPriority } from '../../core/rate-limiter/rate-limiter.types';
import { addDays, todayIn } from '../calendar';
import type { SyncWindow } from '../sync-window';

/** First and last day offset (from today in the sync time zone) a window covers. */
export interface DayRange {
  from: number;
  to: number;
}

/**
 * Days each window covers. The extended window exists because the dates API shows two months:
 * without it days 30..59 would only ever be empty.
 */
export const WINDOW_DAYS: Readonly<Record<SyncWindow, DayRange>> = {
  'quarter-hourly': { from: 0, to: 0 },
  'four-hourly': { from: 0, to: 6 },
  daily: { from: 0, to: 29 },
  extended: { from: 30, to: 59 },
};

/** The configured cron of each window (AppConfig.sync.cron). */
export interface WindowCrons {
  daily: string;
  fourHourly: string;
  quarterHourly: string;
  extended: string;
}

export function cronOf(window: SyncWindow, crons: WindowCrons): string {
  switch (window) {
    case 'daily':
      return crons.daily;
    case 'four-hourly':
      return crons.fourHourly;
    case 'quarter-hourly':
      return crons.quarterHourly;
    case 'extended':
      return crons.extended;
  }
}

/** Budget priority of a date by its offset from today: today > next 7 days > the rest. */
export function priorityForOffset(offset: number): JobPriority {
  if (offset <= 0) return 'today';
  if (offset <= 6) return 'week';
  return 'later';
}

/** One product-date a window wants synced, with the priority it goes to the queue with. */
export interface PlannedSync {
  productId: number;
  date: string;
  /** Days from today (0 = today). */
  offset: number;
  priority: JobPriority;
}

/** The calendar dates `window` covers at instant `now`, "today" being today in `timeZone`. */
export function windowDates(window: SyncWindow, now: Date, timeZone: string): string[] {
  const today = todayIn(timeZone, now);
  const { from, to } = WINDOW_DAYS[window];
  const dates: string[] = [];
  for (let offset = from; offset <= to; offset++) dates.push(addDays(today, offset));
  return dates;
}

/**
 * Product × dates of one window run, today first then by date, so that when the budget is short
 * the queue (which also orders by priority) starts with what users look at most.
 */
export function planWindow(
  window: SyncWindow,
  productIds: readonly number[],
  now: Date,
  timeZone: string,
): PlannedSync[] {
  const today = todayIn(timeZone, now);
  const { from, to } = WINDOW_DAYS[window];
  const plan: PlannedSync[] = [];
  for (let offset = from; offset <= to; offset++) {
    const date = addDays(today, offset);
    for (const productId of productIds) {
      plan.push({ productId, date, offset, priority: priorityForOffset(offset) });
    }
  }
  return plan;
}

/** The next instant `cron` fires strictly after `from`, evaluated in `timeZone`. */
export function nextFireAt(cron: string, timeZone: string, from: Date): Date {
  return new CronTime(cron, timeZone).getNextDateFrom(from, timeZone).toJSDate();
}

/**
 * Typical gap between two firings of `cron` (the smaller of the next two gaps), used to decide
 * at boot whether a window's data is stale. A cron that fires less than once a year counts as a
 * year: cron gives up looking beyond eight years.
 */
export function cronIntervalMs(cron: string, timeZone: string, from: Date): number {
  const YEAR = 365 * 86_400_000;
  try {
    const time = new CronTime(cron, timeZone);
    const a = time.getNextDateFrom(from, timeZone);
    const b = time.getNextDateFrom(a, timeZone);
    const c = time.getNextDateFrom(b, timeZone);
    return Math.min(b.toMillis() - a.toMillis(), c.toMillis() - b.toMillis(), YEAR);
  } catch {
    return YEAR;
  }
}

/** Occurrence key of a scheduled tick: one run per window occurrence across the cluster. */
export function occurrenceKey(window: SyncWindow, scheduledFor: Date): string {
  return `${window}@${scheduledFor.toISOString()}`;
}
