// The operator's page. Plain browser JavaScript, no build step: everything it shows comes from the
// documented API (GET /api/v1/experience/sync/status and /freshness); the control buttons call
// POST /api/v1/experience/sync/{pause,resume,run} with the admin token as a Bearer header.
(function () {
  'use strict';

  const API = '/api/v1/experience/sync';
  const STATUS_EVERY_MS = 5000;
  const FRESHNESS_EVERY_MS = 10000;
  // sessionStorage: the token lives as long as the tab and never appears in a URL.
  const TOKEN_KEY = 'inventory-sync.admin-token';

  const STATES = {
    fresh: { label: 'fresh', colour: '#1a9850', mark: 'none', text: 'synced within its interval' },
    due: { label: 'due', colour: '#fee08b', mark: 'slash', text: 'older than one interval' },
    stale: { label: 'stale', colour: '#f46d43', mark: 'cross', text: 'older than two intervals' },
    never: { label: 'never synced', colour: '#e0e0e0', mark: 'dot', text: 'no successful sync' },
    failed: {
      label: 'failed',
      colour: '#a50026',
      mark: 'bar',
      text: 'last attempt failed after the last success',
    },
  };
  const STATE_ORDER = ['fresh', 'due', 'stale', 'never', 'failed'];
  const DEFAULT_CODES = { f: 'fresh', d: 'due', s: 'stale', n: 'never', x: 'failed' };

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  };

  // ---------- formatting ----------

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
    const s = Math.abs(Math.round(seconds));
    if (s < 90) return `${s} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} days`;
  }

  const pad = (n) => String(n).padStart(2, '0');
  // Thousands grouped the same way whatever the browser's locale: 43,200.
  const count = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

  /** The one date format of the page: local time, ISO-like, with its zone (2026-12-01 12:00:00 UTC+1). */
  function stamp(ms) {
    const d = new Date(ms);
    const offset = -d.getTimezoneOffset();
    const zone =
      offset === 0
        ? 'UTC'
        : `UTC${offset > 0 ? '+' : '-'}${Math.floor(Math.abs(offset) / 60)}` +
          (Math.abs(offset) % 60 ? `:${pad(Math.abs(offset) % 60)}` : '');
    return (
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`
    );
  }

  function when(iso) {
    if (!iso) return '—';
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    const delta = (t - Date.now()) / 1000;
    const rel = delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
    return `${stamp(t)} (${rel})`;
  }

  function errorText(status, body) {
    const name = body && body.error ? body.error : '';
    const message = body && body.message ? [].concat(body.message).join('; ') : '';
    return `${status}${name ? ' ' + name : ''}${message ? ': ' + message : ''}`;
  }

  // ---------- HTTP ----------

  async function getJson(path) {
    const res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) {
      const err = new Error(errorText(res.status, body));
      err.status = res.status;
      throw err;
    }
    return body;
  }

  // ---------- token and controls ----------

  let pendingAction = null;
  // From GET /status: a demo without ADMIN_TOKEN has open controls, so the page asks for nothing.
  let tokenRequired = true;

  const storedToken = () => sessionStorage.getItem(TOKEN_KEY) || '';

  function showMessage(text, kind) {
    const box = $('action-message');
    box.textContent = text;
    box.className = `message message-${kind}`;
    box.hidden = false;
  }

  function setTokenError(text) {
    $('token-error').textContent = text;
    $('token-error').hidden = !text;
    if (text) $('token-input').setAttribute('aria-invalid', 'true');
    else $('token-input').removeAttribute('aria-invalid');
  }

  function openTokenForm(action) {
    pendingAction = action || null;
    setTokenError('');
    $('token-form').hidden = false;
    $('token-input').value = '';
    $('token-input').focus();
  }

  function closeTokenForm() {
    $('token-form').hidden = true;
    setTokenError('');
    pendingAction = null;
  }

  const ACTIONS = {
    pause: { path: 'pause', label: 'Pause', done: 'Sync paused.' },
    resume: { path: 'resume', label: 'Resume', done: 'Sync resumed.' },
    run: { path: 'run', label: 'Run now', done: 'Run started.' },
  };

  async function control(name) {
    const token = tokenRequired ? storedToken() : '';
    if (tokenRequired && !token) {
      openTokenForm(name);
      return;
    }
    const action = ACTIONS[name];
    const body = name === 'run' ? { window: $('run-window').value } : { reason: 'operator page' };
    const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    let json = null;
    try {
      res = await fetch(`${API}/${action.path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      json = await res.json().catch(() => null);
    } catch (err) {
      showMessage(`${action.label} failed: the service did not answer (${err.message}).`, 'error');
      return;
    }
    if (res.status === 401 || res.status === 403) {
      // A wrong token is forgotten so the next click asks again instead of failing silently.
      sessionStorage.removeItem(TOKEN_KEY);
      showMessage(
        `${action.label} refused — the admin token was rejected (${errorText(res.status, json)}). ` +
          'Nothing was changed. Enter the correct token to try again.',
        'error',
      );
      openTokenForm(null);
      return;
    }
    if (!res.ok) {
      showMessage(`${action.label} failed: ${errorText(res.status, json)}`, 'error');
      return;
    }
    let text = action.done;
    if (name === 'run') {
      const id = json && json.runId !== undefined ? ` #${json.runId}` : '';
      text =
        json && json.alreadyRunning
          ? `The ${body.window} window is already running (run${id}).`
          : `Run${id} started for the ${body.window} window.`;
    }
    showMessage(text, 'ok');
    await refreshStatus();
    await refreshFreshness();
  }

  function wireControls() {
    $('pause-btn').addEventListener('click', () => void control('pause'));
    $('resume-btn').addEventListener('click', () => void control('resume'));
    $('run-btn').addEventListener('click', () => void control('run'));
    $('token-btn').addEventListener('click', () => openTokenForm(null));
    $('token-cancel').addEventListener('click', closeTokenForm);
    $('token-forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      closeTokenForm();
      showMessage('Admin token forgotten.', 'ok');
    });
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const value = $('token-input').value.trim();
      if (!value) {
        setTokenError('Enter the admin token (the ADMIN_TOKEN the service was started with).');
        $('token-input').focus();
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, value);
      const next = pendingAction;
      closeTokenForm();
      if (next) void control(next);
      else showMessage('Admin token set for this tab.', 'ok');
    });
  }

  // ---------- status panels ----------

  function table(headers, rows) {
    return el('table', {}, [
      el('thead', {}, [
        el(
          'tr',
          {},
          headers.map((h) => el('th', { scope: 'col', text: h })),
        ),
      ]),
      el(
        'tbody',
        {},
        rows.map((cells) =>
          el(
            'tr',
            {},
            cells.map((c) =>
              c instanceof Node ? el('td', {}, [c]) : el('td', { text: String(c ?? '—') }),
            ),
          ),
        ),
      ),
    ]);
  }

  function dl(pairs) {
    const list = el('dl', { class: 'facts' });
    for (const [term, value] of pairs) {
      list.append(el('dt', { text: term }));
      list.append(value instanceof Node ? el('dd', {}, [value]) : el('dd', { text: value }));
    }
    return list;
  }

  function outcomeBadge(outcome) {
    return el('span', { class: `badge badge-${outcome || 'unknown'}`, text: outcome || '—' });
  }

  function renderBudget(limiter, due) {
    const box = $('budget');
    box.replaceChildren();
    if (!limiter) {
      box.append(el('p', { class: 'muted', text: 'no budget information' }));
      return;
    }
    const meter = el('meter', {
      id: 'budget-meter',
      min: '0',
      max: String(limiter.limit),
      value: String(limiter.spentInWindow),
      high: String(Math.ceil(limiter.limit * 0.8)),
      'aria-label': 'calls in the current window',
    });
    const byHorizon = (due && due.byHorizon) || {};
    box.append(
      el('p', { class: 'big', id: 'budget-calls' }, [
        document.createTextNode(
          `${limiter.spentInWindow} / ${limiter.limit} calls in the last ${duration(limiter.windowMs / 1000)}`,
        ),
      ]),
      meter,
      dl([
        ['Due: today', String(byHorizon.today ?? 0)],
        ['Due: +1…+6', String(byHorizon.week ?? 0)],
        ['Due: +7…+29', String(byHorizon.month ?? 0)],
        ['Due: +30…+59', String(byHorizon.extended ?? 0)],
        ['Waiting after a failure', String((due && due.backingOff) ?? 0)],
        ['In flight', String(limiter.running ?? 0)],
        [
          'Held after 429 until',
          limiter.pausedUntil
            ? el('strong', {
                class: 'warn',
                text:
                  when(limiter.pausedUntil) +
                  (limiter.hold && limiter.hold.capped
                    ? ` (capped; the partner asked for ${when(limiter.hold.hintedUntil)})`
                    : ''),
              })
            : 'not held',
        ],
        ['Circuit breaker', outcomeBadge(limiter.breaker)],
      ]),
    );
  }

  function renderCapacity(capacity) {
    const box = $('capacity');
    box.replaceChildren();
    if (!capacity) {
      box.append(el('p', { class: 'muted', text: 'no capacity plan' }));
      return;
    }
    if (capacity.overCapacity) {
      box.append(
        el('p', {
          class: 'message message-error',
          id: 'over-capacity',
          text:
            `Over capacity: ${capacity.products} products need ${count(capacity.callsPerDayNeeded)} calls/day ` +
            `but the key allows ${count(capacity.callsPerDayAllowed)}. ${capacity.policy || ''}`,
        }),
      );
    }
    const ratio = capacity.callsPerDayAllowed
      ? Math.round((capacity.callsPerDayNeeded / capacity.callsPerDayAllowed) * 100)
      : 0;
    box.append(
      el('p', {
        class: 'big',
        text: `${count(capacity.callsPerDayNeeded)} of ${count(capacity.callsPerDayAllowed)} calls/day (${ratio} %)`,
      }),
      dl([
        ['Products', String(capacity.products)],
        ['Needed without dedupe', `${count(capacity.callsPerDayWithoutDedupe)} calls/day`],
        ['Most products the key can keep in sync', count(capacity.maxProducts)],
        ['Policy', capacity.policy || '—'],
        [
          'Stretch (needed ÷ allowed)',
          capacity.stretchFactor === undefined ? '—' : `${capacity.stretchFactor}×`,
        ],
      ]),
    );
  }

  function runCounts(run) {
    if (!run) return '—';
    const left = run.outcome === 'running' ? `, ${run.remaining ?? 0} remaining` : '';
    return `${run.succeeded}/${run.planned} ok, ${run.failed} failed${left}, ${run.changed} changed, ${run.deduplicated} shared`;
  }

  function renderWindows(windows) {
    const box = $('windows');
    box.replaceChildren();
    if (!windows || windows.length === 0) {
      box.append(el('p', { class: 'muted', text: 'no windows reported' }));
      return;
    }
    box.append(
      table(
        ['Window', 'Dates', 'Schedule', 'Next run', 'Last run', 'Outcome', 'Counts'],
        windows.map((w) => [
          w.window,
          `+${w.days.from}…+${w.days.to}`,
          w.cron,
          w.nextRunAt ? when(w.nextRunAt) : '—',
          w.progress && w.progress.stalled
            ? el('strong', {
                class: 'warn',
                text: `stalled: nothing finished since ${when(w.progress.lastProgressAt)}`,
              })
            : w.running
              ? 'running now'
              : w.lastRun
                ? when(w.lastRun.startedAt)
                : 'never',
          outcomeBadge(w.running ? 'running' : w.lastRun && w.lastRun.outcome),
          runCounts(w.lastRun),
        ]),
      ),
    );
    const select = $('run-window');
    const current = select.value;
    const names = windows.map((w) => w.window);
    if (
      select.options.length !== names.length ||
      names.some((n, i) => select.options[i].value !== n)
    ) {
      select.replaceChildren(
        ...windows.map((w) =>
          el('option', { value: w.window, text: `${w.window} (+${w.days.from}…+${w.days.to})` }),
        ),
      );
      if (names.includes(current)) select.value = current;
    }
  }

  function renderRuns(runs) {
    const box = $('runs');
    box.replaceChildren();
    if (!runs || runs.length === 0) {
      box.append(el('p', { class: 'muted', text: 'no runs yet' }));
      return;
    }
    box.append(
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
            outcomeBadge(r.outcome),
            runCounts(r),
            r.error || '',
          ]),
      ),
    );
  }

  function renderState(status) {
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
    tokenRequired = !status.control || status.control.tokenRequired !== false;
    $('token-btn').hidden = !tokenRequired;
    $('control-note').hidden = tokenRequired;
    $('control-note').textContent = tokenRequired
      ? ''
      : 'Controls are open: no admin token is configured (demo).';
    $('pause-btn').disabled = status.paused;
    $('resume-btn').disabled = !status.paused;
    $('today').textContent = `today ${status.today} (${status.timeZone})`;
    const leader = status.leader
      ? `leader ${status.leader.id}${status.instance && status.instance.leader ? ' (this instance)' : ''}`
      : 'no leader';
    $('leader').textContent = leader;
  }

  function setLoadError(source, message) {
    loadErrors[source] = message;
    const text = Object.values(loadErrors).filter(Boolean).join(' · ');
    $('load-error').textContent = text;
    $('load-error').hidden = !text;
  }
  const loadErrors = {};

  async function refreshStatus() {
    try {
      const status = await getJson(`${API}/status`);
      setLoadError('status', '');
      renderState(status);
      renderBudget(status.limiter, status.due);
      renderCapacity(status.capacity);
      renderWindows(status.windows);
      renderRuns(status.recentRuns);
      $('updated').textContent = `updated ${stamp(Date.now())}`;
    } catch (err) {
      setLoadError('status', `Status unavailable: ${err.message}`);
      $('sync-state').className = 'badge badge-unknown';
      $('sync-state').textContent = 'status unavailable';
    }
  }

  // ---------- heatmap (one canvas, whatever the number of products) ----------

  const LABEL_W = 44;
  const HEADER_H = 18;
  let matrix = null;
  let geometry = null;
  let focusCell = null;

  function stateOf(code) {
    return ((matrix && matrix.codes) || DEFAULT_CODES)[code] || 'never';
  }

  // Draws the non-colour mark of a state so it reads in greyscale and for colour-blind users too.
  function drawMark(ctx, state, x, y, w, h) {
    const mark = STATES[state].mark;
    if (mark === 'none') return;
    ctx.save();
    ctx.lineWidth = Math.max(1, Math.min(w, h) / 8);
    ctx.strokeStyle = state === 'failed' ? '#ffffff' : 'rgba(0,0,0,0.6)';
    ctx.fillStyle = ctx.strokeStyle;
    const inset = Math.max(1, Math.min(w, h) / 6);
    ctx.beginPath();
    if (mark === 'slash') {
      ctx.moveTo(x + inset, y + h - inset);
      ctx.lineTo(x + w - inset, y + inset);
      ctx.stroke();
    } else if (mark === 'cross') {
      ctx.moveTo(x + inset, y + h - inset);
      ctx.lineTo(x + w - inset, y + inset);
      ctx.moveTo(x + inset, y + inset);
      ctx.lineTo(x + w - inset, y + h - inset);
      ctx.stroke();
    } else if (mark === 'dot') {
      ctx.arc(x + w / 2, y + h / 2, Math.max(0.75, Math.min(w, h) / 7), 0, Math.PI * 2);
      ctx.fill();
    } else if (mark === 'bar') {
      ctx.fillRect(x + inset, y + h / 2 - ctx.lineWidth, w - 2 * inset, ctx.lineWidth * 2);
    }
    ctx.restore();
  }

  /** The hint's intervals, as the service derives them from its crons. */
  function renderBandIntervals(bands) {
    if (!bands || bands.length === 0) return;
    $('band-intervals').textContent = bands
      .map((b) => {
        const days =
          b.fromDay === b.toDay
            ? b.fromDay === 0
              ? 'today'
              : `+${b.fromDay}`
            : `+${b.fromDay}…+${b.toDay}`;
        return `${days} ${duration(b.intervalSeconds)}`;
      })
      .join(', ');
  }

  function renderLegend(counts) {
    const list = $('legend');
    list.replaceChildren(
      ...STATE_ORDER.map((state) => {
        const swatch = el('canvas', { width: '16', height: '16', 'aria-hidden': 'true' });
        const ctx = swatch.getContext('2d');
        ctx.fillStyle = STATES[state].colour;
        ctx.fillRect(0, 0, 16, 16);
        drawMark(ctx, state, 0, 0, 16, 16);
        const count = counts ? counts[state] : undefined;
        return el('li', { 'data-state': state, title: STATES[state].text }, [
          swatch,
          el('span', { class: 'legend-label', text: STATES[state].label }),
          el('span', {
            class: 'legend-count',
            'data-count': String(count ?? ''),
            text: count === undefined ? '' : String(count),
          }),
        ]);
      }),
    );
  }

  function drawHeatmap() {
    const canvas = $('heatmap');
    if (!matrix) return;
    const rows = matrix.products.length;
    const cols = matrix.dates.length;
    const available = Math.max(320, $('heatmap-wrap').clientWidth - 2);
    const cellW = Math.max(5, Math.min(22, Math.floor((available - LABEL_W) / cols)));
    const cellH = rows <= 40 ? 18 : rows <= 120 ? 10 : 6;
    const width = LABEL_W + cols * cellW;
    const height = HEADER_H + Math.max(1, rows) * cellH;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    geometry = { cellW, cellH, rows, cols };
    // Published so tests and tools can find a cell without re-deriving the layout.
    canvas.dataset.layout = JSON.stringify({ labelW: LABEL_W, headerH: HEADER_H, cellW, cellH });
    canvas.setAttribute(
      'aria-label',
      `Freshness heatmap: ${rows} products × ${cols} dates. ` +
        STATE_ORDER.map((s) => `${matrix.counts[s]} ${STATES[s].label}`).join(', '),
    );

    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);

    // Header: day offsets at the band boundaries and every week.
    ctx.fillStyle = '#333333';
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const boundaries = new Set((matrix.bands || []).map((b) => b.fromDay));
    let labelEnd = -Infinity;
    for (let c = 0; c < cols; c++) {
      if (!boundaries.has(c) && c % 7 !== 0) continue;
      const text = c === 0 ? `today ${matrix.dates[0].slice(5)}` : `+${c}`;
      const x = LABEL_W + c * cellW;
      if (x < labelEnd + 4) continue;
      ctx.fillText(text, x, HEADER_H / 2);
      labelEnd = x + ctx.measureText(text).width;
    }

    // Cells, batched per state so 27,000 cells are a few thousand path operations.
    const showLabels = cellH >= 10;
    for (let r = 0; r < rows; r++) {
      const row = matrix.products[r];
      const y = HEADER_H + r * cellH;
      if (showLabels || r % 10 === 0) {
        ctx.fillStyle = '#333333';
        ctx.fillText(String(row.productId), 2, y + cellH / 2);
      }
      for (let c = 0; c < cols; c++) {
        const state = stateOf(row.states[c]);
        const x = LABEL_W + c * cellW;
        ctx.fillStyle = STATES[state].colour;
        ctx.fillRect(x, y, cellW - 1, cellH - 1);
        if (cellW >= 6 && cellH >= 6) drawMark(ctx, state, x, y, cellW - 1, cellH - 1);
      }
    }

    // Band separators: where the refresh interval changes.
    ctx.strokeStyle = '#222222';
    ctx.lineWidth = 1;
    for (const band of matrix.bands || []) {
      if (band.fromDay === 0 || band.fromDay >= cols) continue;
      const x = LABEL_W + band.fromDay * cellW - 0.5;
      ctx.beginPath();
      ctx.moveTo(x, HEADER_H - 4);
      ctx.lineTo(x, height);
      ctx.stroke();
    }

    if (focusCell && focusCell.row < rows && focusCell.col < cols) {
      ctx.strokeStyle = '#0050b3';
      ctx.lineWidth = 2;
      ctx.strokeRect(
        LABEL_W + focusCell.col * cellW - 1,
        HEADER_H + focusCell.row * cellH - 1,
        cellW + 1,
        cellH + 1,
      );
    }
  }

  function cellAt(offsetX, offsetY) {
    if (!geometry) return null;
    const col = Math.floor((offsetX - LABEL_W) / geometry.cellW);
    const row = Math.floor((offsetY - HEADER_H) / geometry.cellH);
    if (col < 0 || row < 0 || col >= geometry.cols || row >= geometry.rows) return null;
    return { row, col };
  }

  function describeCell(cell) {
    const product = matrix.products[cell.row];
    const state = stateOf(product.states[cell.col]);
    const age = product.ageSeconds[cell.col];
    const generated = Date.parse(matrix.generatedAt);
    const band = (matrix.bands || []).find((b) => cell.col >= b.fromDay && cell.col <= b.toDay);
    const error = product.errors.find((e) => e.day === cell.col);
    const lines = [
      [`Product ${product.productId} · ${matrix.dates[cell.col]} (+${cell.col})`, 'strong'],
      [`${STATES[state].label}: ${STATES[state].text}`, `state state-${state}`],
      [band ? `refreshed every ${duration(band.intervalSeconds)}` : '', ''],
      [
        age === null
          ? 'last success: never'
          : `last success: ${stamp(generated - age * 1000)} (${duration(age)} ago)`,
        '',
      ],
      [`slots: ${product.slots[cell.col] ?? '—'}`, ''],
      [
        error
          ? `last error${error.attemptAgeSeconds !== null ? ` (${duration(error.attemptAgeSeconds)} ago)` : ''}: ${error.message}`
          : 'last error: none',
        error ? 'error' : '',
      ],
    ];
    return lines.filter(([text]) => text);
  }

  function showTooltip(cell, clientX, clientY) {
    const tip = $('tooltip');
    if (!cell || !matrix) {
      tip.hidden = true;
      return;
    }
    tip.replaceChildren(
      ...describeCell(cell).map(([text, cls]) => el('div', { class: cls, text })),
    );
    tip.hidden = false;
    const pad = 12;
    const { width, height } = tip.getBoundingClientRect();
    const left = Math.min(clientX + pad, window.innerWidth - width - 4);
    const top =
      clientY + pad + height > window.innerHeight ? clientY - height - pad : clientY + pad;
    tip.style.left = `${Math.max(4, left)}px`;
    tip.style.top = `${Math.max(4, top)}px`;
  }

  function showFocusTooltip() {
    if (!focusCell || !geometry) return;
    const rect = $('heatmap').getBoundingClientRect();
    showTooltip(
      focusCell,
      rect.left + LABEL_W + (focusCell.col + 1) * geometry.cellW,
      rect.top + HEADER_H + (focusCell.row + 1) * geometry.cellH,
    );
  }

  function wireHeatmap() {
    const canvas = $('heatmap');
    canvas.addEventListener('mousemove', (e) =>
      showTooltip(cellAt(e.offsetX, e.offsetY), e.clientX, e.clientY),
    );
    canvas.addEventListener('mouseleave', () => ($('tooltip').hidden = true));
    canvas.addEventListener('focus', () => {
      if (!focusCell) focusCell = { row: 0, col: 0 };
      drawHeatmap();
      showFocusTooltip();
    });
    canvas.addEventListener('blur', () => {
      $('tooltip').hidden = true;
    });
    canvas.addEventListener('keydown', (e) => {
      if (!geometry || !focusCell) return;
      const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      if (e.key === 'Escape') {
        $('tooltip').hidden = true;
        return;
      }
      const move = moves[e.key];
      if (!move) return;
      e.preventDefault();
      focusCell = {
        row: Math.min(geometry.rows - 1, Math.max(0, focusCell.row + move[0])),
        col: Math.min(geometry.cols - 1, Math.max(0, focusCell.col + move[1])),
      };
      drawHeatmap();
      showFocusTooltip();
    });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(drawHeatmap, 150);
    });
  }

  async function refreshFreshness() {
    try {
      matrix = await getJson(`${API}/freshness`);
      setLoadError('freshness', '');
      renderLegend(matrix.counts);
      renderBandIntervals(matrix.bands);
      drawHeatmap();
      $('heatmap').dataset.products = matrix.products.map((p) => p.productId).join(',');
      $('heatmap').dataset.generatedAt = matrix.generatedAt;
    } catch (err) {
      setLoadError('freshness', `Freshness unavailable: ${err.message}`);
    }
  }

  // ---------- refresh loop ----------

  function every(ms, fn) {
    const tick = async () => {
      await fn();
      setTimeout(() => void tick(), ms);
    };
    void tick();
  }

  document.addEventListener('DOMContentLoaded', () => {
    renderLegend(null);
    wireControls();
    wireHeatmap();
    every(STATUS_EVERY_MS, refreshStatus);
    every(FRESHNESS_EVERY_MS, refreshFreshness);
  });
})();
