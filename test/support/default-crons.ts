import type { WindowCrons } from '../../src/inventory/schedule/windows';

/** The windows' default crons (SYNC_CRON_* unset), for specs of the schedule and policy math. */
export const DEFAULT_CRONS: Readonly<WindowCrons> = {
  daily: '0 0 * * *',
  fourHourly: '0 */4 * * *',
  quarterHourly: '*/15 * * * *',
  extended: '0 1 * * 0',
};

/** A cron that fires on 1 January only, so no tick fires while a suite runs. */
export const NEVER_CRON = '0 0 1 1 *';

/**
 * Environment that silences every window's cron: the suite drives its own ticks, and a
 * quarter-hour boundary crossed mid-test cannot sync behind its back.
 */
export const QUIET_CRONS: Readonly<Record<string, string>> = {
  SYNC_CRON_DAILY: NEVER_CRON,
  SYNC_CRON_FOUR_HOURLY: NEVER_CRON,
  SYNC_CRON_QUARTER_HOURLY: NEVER_CRON,
  SYNC_CRON_EXTENDED: NEVER_CRON,
};
