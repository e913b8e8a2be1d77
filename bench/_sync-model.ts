/**
 * A deterministic model of one partner key under the sync schedule, in virtual time: cron
 * firings from the real window math, a sliding-window limiter (limit per windowMs, fixed call
 * latency, bounded concurrency) and the partner's own sliding-window count of what it received.
 * Two policies: the service's (windows firing together share product-dates, a product-date
 * queued or in flight is not queued again, priorities today > week > later, a window whose
 * previous run is still going is skipped) and the seed's (three independent windows, every
 * product-date queued each time, one FIFO queue).
 */
import { CronTime } from 'cron';
import type { JobPriority } from '../src/core/rate-limiter.types';
import { addDays, todayIn } from '../src/inventory/calendar';
import { cronOf, planWindow, type WindowCrons } from '../src/inventory/schedule/windows';
import type { SyncWindow } from '../src/inventory/sync-window';

export type Policy = 'service' | 'seed';

export interface ModelOptions {
  products: number;
  policy: Policy;
  crons: WindowCrons;
  windows: readonly SyncWindow[];
  timeZone: string;
  limit: number;
  windowMs: number;
  latencyMs: number;
  concurrency: number;
  start: Date;
  warmupMs: number;
  measureMs: number;
  sampleEveryMs: number;
}

export type AgeRange = 'today' | 'days 1-6' | 'days 7-29' | 'days 30-59';
export const AGE_RANGES: readonly AgeRange[] = ['today', 'days 1-6', 'days 7-29', 'days 30-59'];

export interface ModelResult {
  /** Partner calls the schedule asked for per product in the measured day (after dedupe). */
  wantedPerProductPerDay: number;
  callsInMeasuredDay: number;
  callsPerProductPerDay: number;
  partner429s: number;
  busiestWindow: number;
  utilization: number;
  skippedRuns: number;
  peakQueue: number;
  endQueue: number;
  /** Seconds: p50/p95/max of data age per range of dates, sampled over the measured day. */
  ages: Record<AgeRange, { p50: number; p95: number; max: number }>;
}

interface Job {
  key: string;
  productId: number;
  date: string;
  priority: JobPriority;
  windows: Set<number>;
  dead?: boolean;
}

const RANK: Record<JobPriority, number> = { today: 0, week: 1, later: 2 };

function rangeOf(offset: number): AgeRange | null {
  if (offset === 0) return 'today';
  if (offset <= 6) return 'days 1-6';
  if (offset <= 29) return 'days 7-29';
  if (offset <= 59) return 'days 30-59';
  return null;
}

/** A FIFO with O(1) push/shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  push(v: T): void {
    this.items.push(v);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
  get length(): number {
    return this.items.length - this.head;
  }
}

function firings(cron: string, timeZone: string, from: number, to: number): number[] {
  const time = new CronTime(cron, timeZone);
  const out: number[] = [];
  let at = time.getNextDateFrom(new Date(from - 1), timeZone);
  while (at.toMillis() < to) {
    out.push(at.toMillis());
    at = time.getNextDateFrom(at, timeZone);
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function simulateDay(o: ModelOptions): ModelResult {
  const t0 = o.start.getTime();
  const end = t0 + o.warmupMs + o.measureMs;
  const measureFrom = t0 + o.warmupMs;
  const products = Array.from({ length: o.products }, (_, i) => i + 1);

  // Firings grouped by instant: windows firing together are handled together.
  const ticks = new Map<number, SyncWindow[]>();
  for (const w of o.windows) {
    for (const at of firings(cronOf(w, o.crons), o.timeZone, t0, end)) {
      ticks.set(at, [...(ticks.get(at) ?? []), w]);
    }
  }
  const tickTimes = [...ticks.keys()].sort((a, b) => a - b);

  const queues: Record<JobPriority, Fifo<Job>> = {
    today: new Fifo(),
    week: new Fifo(),
    later: new Fifo(),
  };
  const live = new Map<string, Job>();
  let queued = 0;
  let peakQueue = 0;
  const starts: number[] = [];
  let startsHead = 0;
  const partnerSeen: number[] = [];
  let partnerHead = 0;
  let partner429s = 0;
  let busiest = 0;
  let callsMeasured = 0;
  let wantedMeasured = 0;
  let running: Array<{ at: number; job: Job }> = [];
  const lastSuccess = new Map<string, number>();
  // Run bookkeeping: window → outstanding jobs of its current run.
  let runSeq = 0;
  const runOutstanding = new Map<number, number>();
  const runOfWindow = new Map<SyncWindow, number>();
  let skippedRuns = 0;
  const samples: Record<AgeRange, number[]> = {
    today: [],
    'days 1-6': [],
    'days 7-29': [],
    'days 30-59': [],
  };

  const enqueue = (productId: number, date: string, priority: JobPriority, run: number): void => {
    const key = `${productId}:${date}`;
    const existing = o.policy === 'service' ? live.get(key) : undefined;
    if (existing) {
      existing.windows.add(run);
      runOutstanding.set(run, (runOutstanding.get(run) ?? 0) + 1);
      if (RANK[priority] < RANK[existing.priority] && !existing.dead) {
        // Promote: the queued entry moves up (the old one is left behind as dead).
        const moved: Job = { ...existing, priority };
        existing.dead = true;
        live.set(key, moved);
        queues[priority].push(moved);
      }
      return;
    }
    const job: Job = { key, productId, date, priority, windows: new Set([run]) };
    if (now >= measureFrom) wantedMeasured++;
    if (o.policy === 'service') live.set(key, job);
    runOutstanding.set(run, (runOutstanding.get(run) ?? 0) + 1);
    queues[o.policy === 'service' ? priority : 'later'].push(job);
    queued++;
    peakQueue = Math.max(peakQueue, queued);
  };

  const finish = (job: Job, at: number): void => {
    lastSuccess.set(job.key, at);
    if (o.policy === 'service') live.delete(job.key);
    for (const run of job.windows) {
      const left = (runOutstanding.get(run) ?? 1) - 1;
      if (left <= 0) runOutstanding.delete(run);
      else runOutstanding.set(run, left);
    }
  };

  const nextJob = (): Job | undefined => {
    for (const p of ['today', 'week', 'later'] as const) {
      for (;;) {
        const j = queues[p].shift();
        if (!j) break;
        if (j.dead) continue;
        queued--;
        return j;
      }
    }
    return undefined;
  };

  const sample = (now: number): void => {
    const today = todayIn(o.timeZone, new Date(now));
    for (let offset = 0; offset <= 59; offset++) {
      const range = rangeOf(offset)!;
      const date = addDays(today, offset);
      for (const p of products) {
        const at = lastSuccess.get(`${p}:${date}`);
        samples[range].push((now - (at ?? t0)) / 1000);
      }
    }
  };

  let now = t0;
  let tickIdx = 0;
  let nextSample = measureFrom;
  while (now < end) {
    // Complete calls due by now.
    if (running.length > 0) {
      const still: typeof running = [];
      for (const r of running) {
        if (r.at <= now) finish(r.job, r.at);
        else still.push(r);
      }
      running = still;
    }
    // Ticks due by now.
    while (tickIdx < tickTimes.length && tickTimes[tickIdx] <= now) {
      const at = tickTimes[tickIdx++];
      for (const w of ticks.get(at)!) {
        const prev = runOfWindow.get(w);
        if (o.policy === 'service' && prev !== undefined && runOutstanding.has(prev)) {
          skippedRuns++;
          continue;
        }
        const run = ++runSeq;
        runOfWindow.set(w, run);
        for (const p of planWindow(w, products, new Date(at), o.timeZone)) {
          enqueue(p.productId, p.date, p.priority, run);
        }
      }
    }
    while (nextSample <= now && nextSample < end) {
      sample(nextSample);
      nextSample += o.sampleEveryMs;
    }
    // Start calls while the limiter allows.
    while (startsHead < starts.length && starts[startsHead] <= now - o.windowMs) startsHead++;
    while (running.length < o.concurrency && starts.length - startsHead < o.limit) {
      const job = nextJob();
      if (!job) break;
      starts.push(now);
      // The partner's view: requests in its sliding window, this one included.
      partnerSeen.push(now);
      while (partnerSeen[partnerHead] <= now - o.windowMs) partnerHead++;
      const inWindow = partnerSeen.length - partnerHead;
      busiest = Math.max(busiest, inWindow);
      if (inWindow > o.limit) partner429s++;
      if (now >= measureFrom) callsMeasured++;
      running.push({ at: now + o.latencyMs, job });
    }
    // Advance to the next event.
    const candidates = [end];
    if (tickIdx < tickTimes.length) candidates.push(tickTimes[tickIdx]);
    for (const r of running) candidates.push(r.at);
    if (nextSample < end) candidates.push(nextSample);
    if (queued > 0 && starts.length - startsHead >= o.limit)
      candidates.push(starts[startsHead] + o.windowMs + 1);
    const next = Math.min(...candidates.filter((c) => c > now));
    now = Number.isFinite(next) ? next : end;
  }

  const ages = {} as ModelResult['ages'];
  for (const r of AGE_RANGES) {
    const sorted = Float64Array.from(samples[r]).sort();
    ages[r] = {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      max: sorted[sorted.length - 1] ?? 0,
    };
  }
  const days = o.measureMs / 86_400_000;
  const allowed = o.limit * (o.measureMs / o.windowMs);
  return {
    wantedPerProductPerDay: wantedMeasured / o.products / days,
    callsInMeasuredDay: callsMeasured,
    callsPerProductPerDay: callsMeasured / o.products / days,
    partner429s,
    busiestWindow: busiest,
    utilization: callsMeasured / allowed,
    skippedRuns,
    peakQueue,
    endQueue: queued,
    ages,
  };
}
