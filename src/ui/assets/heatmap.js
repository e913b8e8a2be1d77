// The freshness heatmap: one canvas for a page of products (500 × 60 stays light), a pager for
// the next and previous pages, a tooltip per cell on hover, and arrow-key navigation when the
// map has the focus.
import { $, el } from './dom.js';
import { duration, stamp } from './format.js';
import { drawMark, STATE_ORDER, STATES, stateOf } from './legend.js';

const LABEL_W = 44;
const HEADER_H = 18;
let matrix = null;
let geometry = null;
let focusCell = null;

function drawHeader(ctx, cols, cellW) {
  // Day offsets at the band boundaries and every week.
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
}

function drawCells(ctx, rows, cols, cellW, cellH) {
  const showLabels = cellH >= 10;
  for (let r = 0; r < rows; r++) {
    const row = matrix.products[r];
    const y = HEADER_H + r * cellH;
    if (showLabels || r % 10 === 0) {
      ctx.fillStyle = '#333333';
      ctx.fillText(String(row.productId), 2, y + cellH / 2);
    }
    for (let c = 0; c < cols; c++) {
      const state = stateOf(matrix, row.states[c]);
      const x = LABEL_W + c * cellW;
      ctx.fillStyle = STATES[state].colour;
      ctx.fillRect(x, y, cellW - 1, cellH - 1);
      if (cellW >= 6 && cellH >= 6) drawMark(ctx, state, x, y, cellW - 1, cellH - 1);
    }
  }
}

function drawBandSeparators(ctx, cols, cellW, height) {
  // Where the refresh interval changes.
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
}

export function drawHeatmap() {
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
    `Freshness heatmap: ${rows} products × ${cols} dates${pageText(matrix.page, rows)}. ` +
      STATE_ORDER.map((s) => `${matrix.counts[s]} ${STATES[s].label}`).join(', '),
  );

  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  drawHeader(ctx, cols, cellW);
  drawCells(ctx, rows, cols, cellW, cellH);
  drawBandSeparators(ctx, cols, cellW, height);
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

/** " (1001–1500 of 5000 products)" when the page holds only some of them. */
function pageText(page, rows) {
  if (!page || page.total <= rows) return '';
  return ` (${page.offset + 1}–${page.offset + rows} of ${page.total} products)`;
}

/** Shows which products the map holds, with Previous/Next when there are more than one page. */
export function renderPager(page) {
  const pager = $('heatmap-pager');
  if (!page || page.total <= page.limit) {
    pager.hidden = true;
    return;
  }
  const last = Math.min(page.total, page.offset + page.limit);
  pager.hidden = false;
  $('page-label').textContent = `products ${page.offset + 1}–${last} of ${page.total}`;
  $('page-prev').disabled = page.offset === 0;
  $('page-next').disabled = last >= page.total;
}

/** Calls `move(-1)` or `move(1)` when the operator asks for the previous or next page. */
export function wirePager(move) {
  $('page-prev').addEventListener('click', () => move(-1));
  $('page-next').addEventListener('click', () => move(1));
}

/** Takes a new freshness matrix and redraws. */
export function showMatrix(next) {
  matrix = next;
  drawHeatmap();
  $('heatmap').dataset.products = matrix.products.map((p) => p.productId).join(',');
  $('heatmap').dataset.generatedAt = matrix.generatedAt;
  // Pages share one reading, kept longer with many products: say when it was read.
  $('heatmap-read').textContent = `Read at ${stamp(Date.parse(matrix.generatedAt))}.`;
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
  const state = stateOf(matrix, product.states[cell.col]);
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
  tip.replaceChildren(...describeCell(cell).map(([text, cls]) => el('div', { class: cls, text })));
  tip.hidden = false;
  const pad = 12;
  const { width, height } = tip.getBoundingClientRect();
  const left = Math.min(clientX + pad, window.innerWidth - width - 4);
  const top = clientY + pad + height > window.innerHeight ? clientY - height - pad : clientY + pad;
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

const MOVES = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

function onKey(e) {
  if (!geometry || !focusCell) return;
  if (e.key === 'Escape') {
    $('tooltip').hidden = true;
    return;
  }
  const move = MOVES[e.key];
  if (!move) return;
  e.preventDefault();
  focusCell = {
    row: Math.min(geometry.rows - 1, Math.max(0, focusCell.row + move[0])),
    col: Math.min(geometry.cols - 1, Math.max(0, focusCell.col + move[1])),
  };
  drawHeatmap();
  showFocusTooltip();
}

export function wireHeatmap() {
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
  canvas.addEventListener('keydown', onKey);
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawHeatmap, 150);
  });
}
