/** The sync windows. Each has its own cron (configurable) and covers a range of days. */
export type SyncWindow = 'daily' | 'four-hourly' | 'quarter-hourly' | 'extended';

export const SYNC_WINDOWS: readonly SyncWindow[] = [
  'quarter-hourly',
  'four-hourly',
  'daily',
  'extended',
];
