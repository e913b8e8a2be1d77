import type { WindowCrons } from '../../src/inventory/schedule/windows';

/** The windows' default crons (SYNC_CRON_* unset), for specs of the schedule and policy math. */
export const DEFAULT_CRONS: Readonly<WindowCrons> = {
  daily: '0 0 * * *',
  fourHourly: '0 */4 * * *',
  quarterHourly: '*/15 * * * *',
  extended: '0 1 * * 0',
};
