import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  SIM_UNKNOWN_PRODUCT_FROM,
  addDays,
  bigInventory,
  hash,
  simulatedInventory,
  type WireSlot,
} from './simulator-data';
import { DEFAULT_CHANGE_MODEL, stateAt, type ChangeModelParams } from './change-model';

export interface PartnerSimulatorOptions {
  /** Requests the key may make per window (the real partner: 30). */
  rateLimit: number;
  /** Sliding window length in ms (the real partner: 60000). */
  windowMs: number;
  /** The key it accepts, or several keys: each has its own budget and sliding window. */
  apiKey: string | readonly string[];
  /** Varies the generated data of products other than 14 and 15. */
  seed?: number;
  /** How often seat counts move (ms); default 5 minutes. Unused while the change model is on. */
  seatChangeMs?: number;
  /**
   * The change model (change-model.ts): seeded Poisson sales, cancellations and price moves by
   * popularity and days ahead, instead of the 5-minute drift. Unset: off. Missing fields take
   * DEFAULT_CHANGE_MODEL (seed: the simulator's seed; startMs: when it is switched on).
   */
  changes?: Partial<ChangeModelParams>;
}

/** Switchable misbehaviour. Rates are 0..1; "next" counters hit the next N budgeted requests. */
export interface PartnerFaults {
  serverErrorRate: number;
  /** Status used for injected server errors (default 500). */
  serverErrorStatus: number;
  /** The next N budgeted requests answer a server error, then back to normal. */
  failNext: number;
  /** Added before every answer. */
  latencyMs: number;
  /** Every budgeted request is left unanswered until the client gives up. */
  timeout: boolean;
  /** The next N budgeted requests are left unanswered. */
  timeoutNext: number;
  /** Every budgeted request gets its headers at once, then its body 1 byte every trickleIntervalMs. */
  trickle: boolean;
  /** The next N budgeted requests trickle, then back to normal. */
  trickleNext: number;
  /**
   * Requests for these products get their headers, then one byte every trickleIntervalMs forever
   * (the answer, then spaces; no content-length): a product the partner hangs on. Others are normal.
   */
  trickleProducts: number[];
  /** Pause between two bytes of a trickling body (ms). */
  trickleIntervalMs: number;
  /** When > 0, every 429 names a reset this many ms ahead instead of the window's real one. */
  farResetMs: number;
  /** 200 with a body that is not JSON. */
  malformedJson: boolean;
  /** 200 with JSON that breaks the contract (a price sent as a string). */
  wrongShape: boolean;
  /** 200 with the answer's JSON holding a byte that is not UTF-8 (0xFF) in the first pax name. */
  invalidUtf8: boolean;
  /** 401 for every request, whatever the key. */
  unauthorized: boolean;
  /** 401 for requests with these keys (by position in the simulator's keys, 0 = the first). */
  rejectKeys: number[];
  /** Whole partner down: every request gets 503 ('503'/true) or its connection reset ('refuse'). */
  outage: boolean | '503' | 'refuse';
  /** Each answer also carries the first slot of the next date that has any (a cross-date slot). */
  crossDateSlot: boolean;
  /** Every slot of an answer gives the day after the requested date as its startDate. */
  wrongStartDate: boolean;
  /** Above 0: every answer holds this many generated slots of 3 pax each (a big product-date). */
  slotsPerAnswer: number;
}

export const NO_FAULTS: PartnerFaults = {
  serverErrorRate: 0,
  serverErrorStatus: 500,
  failNext: 0,
  latencyMs: 0,
  timeout: false,
  timeoutNext: 0,
  trickle: false,
  trickleNext: 0,
  trickleProducts: [],
  trickleIntervalMs: 2000,
  farResetMs: 0,
  malformedJson: false,
  wrongShape: false,
  invalidUtf8: false,
  unauthorized: false,
  rejectKeys: [],
  outage: false,
  crossDateSlot: false,
  wrongStartDate: false,
  slotsPerAnswer: 0,
};

/** What the partner saw: the judge of every budget test and benchmark. */
export interface PartnerSimulatorStats {
  /** Inventory requests received (control endpoints and foreign spending excluded). */
  total: number;
  /** Answers by HTTP status ("0" = connection reset, "none" = never answered). */
  byStatus: Record<string, number>;
  /** Inventory requests per "productId:date". */
  perProductDate: Record<string, number>;
  /** Most budget units (ours + foreign, accepted or rejected) started in any window of windowMs. */
  busiestWindow: number;
  /** Budget units in the window ending now. */
  inWindowNow: number;
  /** Units spent by the foreign consumer (spendBudget). */
  foreign: number;
  /** Epoch ms of the first and last inventory request that counted against the key (null: none). */
  firstCountedAt: number | null;
  lastCountedAt: number | null;
  rateLimit: number;
  windowMs: number;
  /** The same per key, in the simulator's key order (the totals above are over every key). */
  keys: PartnerSimulatorKeyStats[];
}

export interface PartnerSimulatorKeyStats {
  /** Inventory requests that carried this key. */
  total: number;
  byStatus: Record<string, number>;
  busiestWindow: number;
  inWindowNow: number;
  foreign: number;
  /** The last 1,000 429s this key got: when, and the reset its body announced (epoch ms). */
  rateLimited: Array<{ at: number; reset: number }>;
}

const INVENTORY_PATH = /^\/api\/v1\/inventory\/([^/]+)$/;
const TRUTH_PATH = /^\/__sim\/truth\/([^/]+)$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One key's sliding window and counters. */
interface KeyBudget {
  /** Start times (ms) of every budget unit in the current window, oldest first. */
  window: number[];
  total: number;
  byStatus: Record<string, number>;
  busiestWindow: number;
  foreign: number;
  rateLimited: Array<{ at: number; reset: number }>;
}

const emptyBudget = (): KeyBudget => ({
  window: [],
  total: 0,
  byStatus: {},
  busiestWindow: 0,
  foreign: 0,
  rateLimited: [],
});

/**
 * A stand-in for the partner inventory API (partner-api.md), for the demo, tests and benchmarks:
 * plain Node http, realistic data, a sliding-window budget per key that counts every request
 * carrying the key (rejected ones included), 429 with rateLimitState.reset in epoch ms, and
 * switchable faults.
 */
export class PartnerSimulator {
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private faults: PartnerFaults = { ...NO_FAULTS };
  private readonly overrides = new Map<string, WireSlot[]>();
  private readonly keys: readonly string[];
  private budgets: KeyBudget[];
  private counters = this.emptyCounters();
  private random: () => number;
  private changes: ChangeModelParams | null = null;
  private changeStarts: ReadonlyMap<string, number> = new Map();

  constructor(private readonly options: PartnerSimulatorOptions) {
    this.random = seededRandom(options.seed ?? 1);
    this.keys = typeof options.apiKey === 'string' ? [options.apiKey] : [...options.apiKey];
    this.budgets = this.keys.map(emptyBudget);
    if (options.changes) this.setChangeModel(options.changes);
  }

  /** Switches the change model on with these parameters (see `changes`), or off (null). */
  setChangeModel(params: Partial<ChangeModelParams> | null): ChangeModelParams | null {
    this.changes = params
      ? {
          ...DEFAULT_CHANGE_MODEL,
          seed: this.options.seed ?? 1,
          startMs: Date.now(),
          ...params,
        }
      : null;
    return this.getChangeModel();
  }

  /**
   * Per product-date ("productId:date") instants from which the change model moves it, instead of
   * the model's startMs: a benchmark that backdates a copy's last sync makes the partner's data
   * start changing then, so a copy synced (as initial data) "at" that instant ages as a real one.
   */
  setChangeStarts(starts: ReadonlyMap<string, number>): void {
    this.changeStarts = new Map(starts);
  }

  getChangeModel(): ChangeModelParams | null {
    return this.changes ? { ...this.changes } : null;
  }

  /**
   * The partner's own answer for a product-date at `atMs` (default now), without spending budget
   * or counting: pinned inventory, else the change model's state, else the drifting data. Data
   * faults (cross-date, wrong date, size) bend answers, not the truth.
   */
  truth(productId: number, date: string, atMs = Date.now()): WireSlot[] {
    const bucket = Math.floor(atMs / (this.options.seatChangeMs ?? 300_000));
    return structuredClone(this.dayAnswer(productId, date, bucket, atMs));
  }

  /** Listens on 127.0.0.1:`port` (0 = any free port) and returns the base URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const { port: actual } = server.address() as AddressInfo;
    return `http://${host}:${actual}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string | null {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? `http://127.0.0.1:${address.port}` : null;
  }

  setFaults(partial: Partial<PartnerFaults>): void {
    this.faults = { ...this.faults, ...partial };
  }

  getFaults(): PartnerFaults {
    return { ...this.faults };
  }

  /** Pins the answer for one product-date (null removes the pin). */
  setInventory(productId: number, date: string, slots: WireSlot[] | null): void {
    if (slots === null) this.overrides.delete(`${productId}:${date}`);
    else this.overrides.set(`${productId}:${date}`, structuredClone(slots));
  }

  /**
   * A foreign consumer using the same key (by position, 0 = the first) spends `n` units now,
   * behind the service's back.
   */
  spendBudget(n: number, keyIndex = 0): void {
    const budget = this.budgets[keyIndex];
    if (!budget) throw new Error(`the simulator has no key #${keyIndex + 1}`);
    for (let i = 0; i < n; i++) this.countUnit(budget, Date.now());
    budget.foreign += n;
  }

  stats(): PartnerSimulatorStats {
    const now = Date.now();
    for (const b of this.budgets) this.prune(b, now);
    return {
      total: this.counters.total,
      byStatus: { ...this.counters.byStatus },
      perProductDate: { ...this.counters.perProductDate },
      busiestWindow: Math.max(...this.budgets.map((b) => b.busiestWindow)),
      inWindowNow: this.budgets.reduce((n, b) => n + b.window.length, 0),
      foreign: this.budgets.reduce((n, b) => n + b.foreign, 0),
      firstCountedAt: this.counters.firstCountedAt,
      lastCountedAt: this.counters.lastCountedAt,
      rateLimit: this.options.rateLimit,
      windowMs: this.options.windowMs,
      keys: this.budgets.map((b) => ({
        total: b.total,
        byStatus: { ...b.byStatus },
        busiestWindow: b.busiestWindow,
        inWindowNow: b.window.length,
        foreign: b.foreign,
        rateLimited: [...b.rateLimited],
      })),
    };
  }

  /** Forgets counters, the budget windows, faults and pinned inventory. */
  reset(): void {
    this.budgets = this.keys.map(emptyBudget);
    this.counters = this.emptyCounters();
    this.faults = { ...NO_FAULTS };
    this.overrides.clear();
    this.random = seededRandom(this.options.seed ?? 1);
  }

  private emptyCounters() {
    return {
      total: 0,
      byStatus: {} as Record<string, number>,
      perProductDate: {} as Record<string, number>,
      firstCountedAt: null as number | null,
      lastCountedAt: null as number | null,
    };
  }

  private prune(budget: KeyBudget, now: number): void {
    const from = now - this.options.windowMs;
    let i = 0;
    while (i < budget.window.length && budget.window[i] <= from) i++;
    if (i > 0) budget.window.splice(0, i);
  }

  /** Counts one unit; returns false when it exceeds the budget (it still counts, like the partner). */
  private countUnit(budget: KeyBudget, now: number): boolean {
    this.prune(budget, now);
    budget.window.push(now);
    budget.busiestWindow = Math.max(budget.busiestWindow, budget.window.length);
    return budget.window.length <= this.options.rateLimit;
  }

  /** When the key's window will next have room for one request. */
  private resetAt(budget: KeyBudget): number {
    const n = budget.window.length;
    const freeing = budget.window[Math.max(0, n - this.options.rateLimit)] ?? Date.now();
    return freeing + this.options.windowMs;
  }

  private answered(status: number | string, budget?: KeyBudget): void {
    const k = String(status);
    this.counters.byStatus[k] = (this.counters.byStatus[k] ?? 0) + 1;
    if (budget) budget.byStatus[k] = (budget.byStatus[k] ?? 0) + 1;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://simulator');
      if (url.pathname.startsWith('/__sim/'))
        return await this.control(req, res, url.pathname, url.searchParams);
      const m = INVENTORY_PATH.exec(url.pathname);
      if (req.method !== 'GET' || !m) return json(res, 404, { message: 'Not found' });
      await this.inventory(req, res, m[1], url.searchParams.get('date'));
    } catch (err) {
      if (!res.headersSent) json(res, 500, { message: (err as Error).message });
    }
  }

  private async inventory(
    req: IncomingMessage,
    res: ServerResponse,
    rawId: string,
    date: string | null,
  ): Promise<void> {
    const now = Date.now();
    this.counters.total++;
    const pd = `${rawId}:${date ?? ''}`;
    this.counters.perProductDate[pd] = (this.counters.perProductDate[pd] ?? 0) + 1;
    const f = this.faults;
    const header = req.headers['x-api-key'];
    const keyIndex = typeof header === 'string' ? this.keys.indexOf(header) : -1;
    const budget = this.budgets[keyIndex] as KeyBudget | undefined;
    if (budget) budget.total++;
    const answered = (status: number | string) => this.answered(status, budget);

    if (f.outage === 'refuse') {
      answered(0);
      req.socket.destroy();
      return;
    }
    if (f.outage) {
      answered(503);
      return json(res, 503, { message: 'Service Unavailable' });
    }
    if (!budget || f.unauthorized || f.rejectKeys.includes(keyIndex)) {
      answered(401);
      return json(res, 401, { message: 'Invalid API key' });
    }
    this.counters.firstCountedAt ??= now;
    this.counters.lastCountedAt = now;
    if (!this.countUnit(budget, now)) {
      answered(429);
      const reset = f.farResetMs > 0 ? now + f.farResetMs : this.resetAt(budget);
      budget.rateLimited.push({ at: now, reset });
      // Bounded: the demo's simulator runs for days.
      if (budget.rateLimited.length > 1000) budget.rateLimited.shift();
      return json(res, 429, {
        message: 'Too many requests',
        rateLimitState: { remaining: 0, reset },
      });
    }
    if (f.timeout || f.timeoutNext > 0) {
      if (f.timeoutNext > 0) f.timeoutNext--;
      answered('none');
      return; // never answered; the socket is destroyed by the client's timeout or stop()
    }
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (f.failNext > 0 || (f.serverErrorRate > 0 && this.random() < f.serverErrorRate)) {
      if (f.failNext > 0) f.failNext--;
      answered(f.serverErrorStatus);
      return json(res, f.serverErrorStatus, { message: 'Internal Server Error' });
    }

    const productId = /^\d{1,9}$/.test(rawId) ? Number(rawId) : NaN;
    if (!Number.isInteger(productId) || productId < 1 || productId >= SIM_UNKNOWN_PRODUCT_FROM) {
      answered(404);
      return json(res, 404, { message: `Product ${rawId} not found` });
    }
    if (!date || !ISO_DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
      answered(400);
      return json(res, 400, { message: 'date must be YYYY-MM-DD' });
    }
    if (f.malformedJson) {
      answered(200);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[{"startDate": "2025-04-03", "startTime": ');
      return;
    }
    const bucket = Math.floor(now / (this.options.seatChangeMs ?? 300_000));
    const slots = this.answerFor(productId, date, bucket, now);
    if (f.wrongShape && slots.length > 0) {
      const broken: unknown[] = structuredClone(slots);
      (
        broken[0] as { paxAvailability: Array<{ price: Record<string, unknown> }> }
      ).paxAvailability[0].price.finalPrice = String(slots[0].paxAvailability[0]?.price.finalPrice);
      answered(200);
      return json(res, 200, broken);
    }
    if (f.trickleProducts.includes(productId)) {
      answered(200);
      return trickle(res, JSON.stringify(slots), f.trickleIntervalMs, true);
    }
    if (f.invalidUtf8) {
      const text = JSON.stringify(slots);
      const at = Buffer.byteLength(text.slice(0, text.indexOf('"name":"') + 8));
      const body = Buffer.from(text);
      answered(200);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.concat([body.subarray(0, at), Buffer.from([0xff]), body.subarray(at)]));
      return;
    }
    if (f.trickle || f.trickleNext > 0) {
      if (f.trickleNext > 0) f.trickleNext--;
      answered(200);
      return trickle(res, JSON.stringify(slots), f.trickleIntervalMs);
    }
    answered(200);
    json(res, 200, slots);
  }

  private dayAnswer(productId: number, date: string, bucket: number, now: number): WireSlot[] {
    const pinned = this.overrides.get(`${productId}:${date}`);
    if (pinned) return pinned;
    const seed = this.options.seed ?? 1;
    if (!this.changes) return simulatedInventory(productId, date, seed, bucket);
    const start = this.changeStarts.get(`${productId}:${date}`);
    return stateAt(
      start === undefined ? this.changes : { ...this.changes, startMs: start },
      productId,
      date,
      simulatedInventory(productId, date, seed, 0),
      now,
    );
  }

  /** The answer for one product-date, bent by the data faults (cross-date, wrong date, size). */
  private answerFor(productId: number, date: string, bucket: number, now: number): WireSlot[] {
    const f = this.faults;
    if (f.slotsPerAnswer > 0) return bigInventory(productId, date, f.slotsPerAnswer);
    let slots = this.dayAnswer(productId, date, bucket, now);
    if (f.crossDateSlot) {
      for (let d = 1; d <= 7; d++) {
        const other = this.dayAnswer(productId, addDays(date, d), bucket, now)[0];
        if (other) {
          slots = [...slots, other];
          break;
        }
      }
    }
    if (f.wrongStartDate) slots = slots.map((s) => ({ ...s, startDate: addDays(date, 1) }));
    return slots;
  }

  private async control(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    if (req.method === 'GET' && path === '/__sim/stats') return json(res, 200, this.stats());
    if (req.method === 'GET' && path === '/__sim/changes')
      return json(res, 200, { changes: this.getChangeModel() });
    const truth = TRUTH_PATH.exec(path);
    if (req.method === 'GET' && truth) return this.truthAnswer(res, truth[1], query);
    if (req.method !== 'POST') return json(res, 405, { message: 'Method not allowed' });
    const body = await readJson(req);
    if (path === '/__sim/faults') {
      this.setFaults(body as Partial<PartnerFaults>);
      return json(res, 200, this.getFaults());
    }
    if (path === '/__sim/reset') {
      this.reset();
      return json(res, 200, this.stats());
    }
    if (path === '/__sim/spend') {
      const b = body as { count?: unknown; key?: unknown };
      this.spendBudget(Number(b.count ?? 1), Number(b.key ?? 0));
      return json(res, 200, this.stats());
    }
    if (path === '/__sim/changes') {
      const b = body as { enabled?: unknown } & Partial<ChangeModelParams>;
      if (b.enabled === false) return json(res, 200, { changes: this.setChangeModel(null) });
      const params = changeParams(b);
      if (typeof params === 'string') return json(res, 400, { message: params });
      return json(res, 200, { changes: this.setChangeModel(params) });
    }
    if (path === '/__sim/inventory') {
      const b = body as { productId: number; date: string; slots: WireSlot[] | null };
      this.setInventory(Number(b.productId), String(b.date), b.slots ?? null);
      return json(res, 200, { ok: true });
    }
    json(res, 404, { message: 'Not found' });
  }

  /** GET /__sim/truth/{productId}?date=YYYY-MM-DD[&at=epochMs]: the truth, free of budget. */
  private truthAnswer(res: ServerResponse, rawId: string, query: URLSearchParams): void {
    const productId = /^\d{1,9}$/.test(rawId) ? Number(rawId) : NaN;
    const date = query.get('date');
    const at = query.has('at') ? Number(query.get('at')) : Date.now();
    if (!(productId >= 1 && productId < SIM_UNKNOWN_PRODUCT_FROM))
      return json(res, 404, { message: `Product ${rawId} not found` });
    if (!date || !ISO_DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
      return json(res, 400, { message: 'date must be YYYY-MM-DD' });
    if (!Number.isFinite(at)) return json(res, 400, { message: 'at must be epoch ms' });
    json(res, 200, { at, slots: this.truth(productId, date, at) });
  }
}

const CHANGE_FIELDS = [
  'ratePerHour',
  'popularitySkew',
  'halfLifeDays',
  'saleShare',
  'cancelShare',
  'seats',
  'seed',
  'startMs',
] as const;

/** The change model's fields of a control body, checked; a message naming the bad one otherwise. */
function changeParams(body: Record<string, unknown>): Partial<ChangeModelParams> | string {
  const out: Partial<ChangeModelParams> = {};
  for (const field of CHANGE_FIELDS) {
    const v = body[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      return `${field} must be a number ≥ 0`;
    out[field] = v;
  }
  const sale = out.saleShare ?? DEFAULT_CHANGE_MODEL.saleShare;
  const cancel = out.cancelShare ?? DEFAULT_CHANGE_MODEL.cancelShare;
  if (sale + cancel > 1) return 'saleShare + cancelShare must be ≤ 1';
  if (out.halfLifeDays === 0) return 'halfLifeDays must be > 0';
  return out;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Headers now, then the body one byte at a time: every byte resets a socket idle timer, so only
 * a wall-clock deadline on the whole call ends it. `forever`: no length, and spaces after the
 * body without end. Stops when the client goes away.
 */
function trickle(res: ServerResponse, text: string, intervalMs: number, forever = false): void {
  const body = Buffer.from(text);
  res.writeHead(200, {
    'content-type': 'application/json',
    ...(forever ? {} : { 'content-length': body.length }),
  });
  res.flushHeaders();
  let sent = 0;
  const timer = setInterval(
    () => {
      if (res.destroyed || (sent >= body.length && !forever)) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(sent < body.length ? body.subarray(sent, sent + 1) : ' ');
      sent++;
    },
    Math.max(1, intervalMs),
  );
  res.on('close', () => clearInterval(timer));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text ? JSON.parse(text) : {};
}

/** Deterministic 0..1 sequence so fault rates are reproducible for a given seed. */
function seededRandom(seed: number): () => number {
  let state = hash('rng', seed) || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}
