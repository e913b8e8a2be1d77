// The windows table (schedule, next and last run) with the run-window picker, and recent runs.
import { $, badge, el, fill, table } from './dom.js';
import { duration, runCounts, when } from './format.js';
import { bandDays } from './legend.js';

/** A window's dates named as the freshness legend names its bands (`today…+6`). */
const windowDays = (w) => bandDays({ fromDay: w.days.from, toDay: w.days.to });

function lastRunCell(w) {
  if (w.progress && w.progress.stalled) {
    return el('strong', {
      class: 'warn',
      text: `stalled: nothing finished since ${when(w.progress.lastProgressAt)}`,
    });
  }
  if (w.running) return 'running now';
  return w.lastRun ? when(w.lastRun.startedAt) : 'never';
}

/** Keeps the Run now picker in step with the windows the service reports, keeping the choice. */
function syncWindowPicker(windows) {
  const select = $('run-window');
  const current = select.value;
  const names = windows.map((w) => w.window);
  if (
    select.options.length === names.length &&
    names.every((n, i) => select.options[i].value === n)
  ) {
    return;
  }
  select.replaceChildren(
    ...windows.map((w) =>
      el('option', { value: w.window, text: `${w.window} (${windowDays(w)})` }),
    ),
  );
  if (names.includes(current)) select.value = current;
}

export function renderWindows(windows) {
  const box = $('windows');
  if (!windows || windows.length === 0) return fill(box, null, 'no windows reported');
  fill(box, [
    table(
      ['Window', 'Dates', 'Schedule', 'Next run', 'Last run', 'Outcome', 'Counts'],
      windows.map((w) => [
        w.window,
        windowDays(w),
        w.cron,
        w.nextRunAt ? when(w.nextRunAt) : '—',
        lastRunCell(w),
        badge(w.running ? 'running' : w.lastRun && w.lastRun.outcome),
        runCounts(w.lastRun),
      ]),
    ),
  ]);
  syncWindowPicker(windows);
}

export function renderRuns(runs) {
  const box = $('runs');
  if (!runs || runs.length === 0) return fill(box, null, 'no runs yet');
  fill(box, [
    table(
      ['#', 'Window', 'Trigger', 'Started', 'Took', 'Outcome', 'Counts', 'Error'],
      runs
        .slice(0, 10)
        .map((r) => [
          r.id,
          r.window,
          r.trigger,
          when(r.startedAt),
          r.finishedAt
            ? duration((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)
            : '…',
          badge(r.outcome),
          runCounts(r),
          r.error || '',
        ]),
    ),
  ]);
}
