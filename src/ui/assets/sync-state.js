// The header line: syncing or paused (since when, by whom), today in the sync time zone, the leader.
import { $ } from './dom.js';
import { when } from './format.js';

export function renderSyncState(status) {
  const badge = $('sync-state');
  if (status.paused) {
    badge.className = 'badge badge-paused';
    badge.textContent =
      'Paused' +
      (status.pausedSince ? ` since ${when(status.pausedSince)}` : '') +
      (status.pausedBy ? ` by ${status.pausedBy}` : '');
  } else {
    badge.className = 'badge badge-ok';
    badge.textContent = 'Syncing';
  }
  $('today').textContent = `today ${status.today} (${status.timeZone})`;
  $('leader').textContent = status.leader
    ? `leader ${status.leader.id}${status.instance && status.instance.leader ? ' (this instance)' : ''}`
    : 'no leader';
}

export function renderStatusUnavailable() {
  $('sync-state').className = 'badge badge-unknown';
  $('sync-state').textContent = 'status unavailable';
}
