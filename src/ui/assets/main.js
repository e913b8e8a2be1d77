// The operator's page. Plain browser ES modules, no build step: everything it shows comes from the
// documented API (GET /api/v1/experience/sync/status and /freshness); the control buttons call
// POST /api/v1/experience/sync/{pause,resume,run} with the admin token as a Bearer header.
// This module is the refresh loop: it fetches and hands each part of the answer to its panel.
import { renderAccuracy } from './accuracy.js';
import { fetchFreshness, fetchStatus, fetchWebhooks } from './api.js';
import { renderBudget } from './budget.js';
import { renderCapacity } from './capacity.js';
import { adminTokenRequired, renderControls, storedToken, wireControls } from './control.js';
import { $ } from './dom.js';
import { stamp } from './format.js';
import { renderPager, showMatrix, wireHeatmap, wirePager } from './heatmap.js';
import { renderLearned } from './learned.js';
import { renderBandIntervals, renderLegend } from './legend.js';
import { renderStatusUnavailable, renderSyncState } from './sync-state.js';
import { renderRuns, renderWindows } from './windows.js';
import { renderWebhooks, renderWebhooksUnavailable } from './webhooks.js';

const STATUS_EVERY_MS = 5000;
const FRESHNESS_EVERY_MS = 10000;
// Rows the heatmap shows at a time: a bounded answer however many products are configured.
const PRODUCTS_PER_PAGE = 500;
let freshnessOffset = 0;
let freshnessTotal = 0;

const loadErrors = {};

function setLoadError(source, message) {
  loadErrors[source] = message;
  const text = Object.values(loadErrors).filter(Boolean).join(' · ');
  $('load-error').textContent = text;
  $('load-error').hidden = !text;
}

async function refreshStatus() {
  try {
    const status = await fetchStatus();
    setLoadError('status', '');
    renderSyncState(status);
    renderControls(status);
    renderAccuracy(status.accuracy);
    renderLearned(status.learned, status.plan);
    renderBudget(status.limiter, status.due);
    renderCapacity(status.capacity);
    renderWindows(status.windows);
    renderRuns(status.recentRuns);
    $('updated').textContent = `updated ${stamp(Date.now())}`;
  } catch (err) {
    setLoadError('status', `Status unavailable: ${err.message}`);
    renderStatusUnavailable();
  }
}

async function refreshWebhooks() {
  const token = storedToken();
  // Without a token the service would answer 401 (a console error): say what is needed instead.
  if (!token && adminTokenRequired()) return renderWebhooks(null);
  try {
    renderWebhooks(await fetchWebhooks(token));
  } catch (err) {
    renderWebhooksUnavailable(err.message);
  }
}

async function refreshFreshness() {
  const offset = freshnessOffset;
  try {
    const matrix = await fetchFreshness(offset, PRODUCTS_PER_PAGE);
    // The operator went to another page meanwhile: that page's own answer draws it.
    if (offset !== freshnessOffset) return;
    freshnessTotal = matrix.page ? matrix.page.total : 0;
    setLoadError('freshness', '');
    renderLegend(matrix.counts);
    renderBandIntervals(matrix.bands);
    showMatrix(matrix);
    renderPager(matrix.page);
  } catch (err) {
    setLoadError('freshness', `Freshness unavailable: ${err.message}`);
  }
}

function every(ms, fn) {
  const tick = async () => {
    await fn();
    setTimeout(() => void tick(), ms);
  };
  void tick();
}

// Module scripts run once the document is parsed, so the page's elements are all there.
renderLegend(null);
wireControls(async () => {
  await refreshStatus();
  await refreshFreshness();
  await refreshWebhooks();
});
wireHeatmap();
wirePager((step) => {
  const lastPage = Math.max(0, Math.ceil(freshnessTotal / PRODUCTS_PER_PAGE) - 1);
  const page = Math.min(lastPage, Math.max(0, freshnessOffset / PRODUCTS_PER_PAGE + step));
  if (page * PRODUCTS_PER_PAGE === freshnessOffset) return;
  freshnessOffset = page * PRODUCTS_PER_PAGE;
  void refreshFreshness();
});
// The webhooks panel follows status: status says whether the service asks for a token (until
// then the page assumes it does, and a demo without one showed the token prompt for 5 s).
every(STATUS_EVERY_MS, async () => {
  await refreshStatus();
  await refreshWebhooks();
});
every(FRESHNESS_EVERY_MS, refreshFreshness);
