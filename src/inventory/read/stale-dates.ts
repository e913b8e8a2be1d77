import { cachedRead, type CachedRead } from './read-cache';

/**
 * A last good dates list kept from an earlier day starts in the past: a stale copy served after
 * midnight drops the dates before `today` (the list always starts today). Same body, same ETag
 * when nothing is dropped.
 */
export function withoutPastDates(read: CachedRead, today: string): CachedRead {
  const parsed = JSON.parse(read.body.toString()) as { dates: Array<{ date: string }> };
  const dates = parsed.dates.filter((d) => d.date >= today);
  if (dates.length === parsed.dates.length) return read;
  const trimmed = cachedRead(
    JSON.stringify({ ...parsed, dates }),
    read.lastModified,
    read.loadedAt,
  );
  return { ...trimmed, stale: read.stale };
}
