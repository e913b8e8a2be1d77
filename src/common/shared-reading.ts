/**
 * Bounds the time spent computing a reading: it is kept at least its computing time divided by
 * `maxComputeShare` (so at most that share of the time goes to computing it, however often
 * callers ask or the data changes), but never longer than `maxKeepMs` for this reason. The
 * computing time is the shorter of the last two readings': one slow reading (the first after a
 * boot, a burst on the machine) does not hold the next one back.
 */
export interface ComputeShareLimit {
  maxComputeShare: number;
  maxKeepMs: number;
}

/**
 * One reading shared by every caller: while it is being computed, later callers wait for the same
 * promise (single flight); once it resolves, it is answered again for `ttlMs` (or longer, under a
 * ComputeShareLimit). A failed reading is not kept. For answers that cost the database a scan and
 * that many pollers ask for at once.
 */
export class SharedReading<T> {
  private kept: { at: number; value: T; computeMs: number } | null = null;
  private pending: Promise<T> | null = null;
  private generation = 0;
  /** The last change reported, and how long a reading begun before it may still be answered. */
  private change: { at: number; maxAgeMs: number } | null = null;
  /** How long the previous reading took to compute (ms), null before the first. */
  private lastComputeMs: number | null = null;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly limit?: ComputeShareLimit,
  ) {}

  read(compute: () => Promise<T>): Promise<T> {
    if (this.kept && this.now() - this.kept.at < this.keepMs(this.kept)) {
      return Promise.resolve(this.kept.value);
    }
    if (this.pending) return this.pending;
    const generation = this.generation;
    const startedAt = this.now();
    const pending = compute().then((value) => {
      // A reading begun before an invalidation is answered to its callers but not kept.
      const computeMs = this.now() - startedAt;
      const sustained = Math.min(computeMs, this.lastComputeMs ?? 0);
      this.lastComputeMs = computeMs;
      if (generation === this.generation) {
        this.kept = { at: startedAt, value, computeMs: sustained };
      }
      return value;
    });
    this.pending = pending;
    const clear = (): void => {
      if (this.pending === pending) this.pending = null;
    };
    pending.then(clear, clear);
    return pending;
  }

  /**
   * The data changed: a reading begun before now is answered at most `maxAgeMs` after it began
   * (a shorter time than `ttlMs`, so that changes show soon while a burst of them still costs
   * one reading per `maxAgeMs`).
   */
  changed(maxAgeMs: number): void {
    this.change = { at: this.now(), maxAgeMs };
  }

  private keepMs(kept: { at: number; computeMs: number }): number {
    const keep =
      this.change && this.change.at >= kept.at
        ? Math.min(this.ttlMs, this.change.maxAgeMs)
        : this.ttlMs;
    if (!this.limit) return keep;
    const { maxComputeShare, maxKeepMs } = this.limit;
    return Math.max(keep, Math.min(maxKeepMs, kept.computeMs / maxComputeShare));
  }

  /** Forgets the kept reading: the next caller computes a new one (e.g. after a run finished). */
  invalidate(): void {
    this.generation++;
    this.kept = null;
    this.pending = null;
  }
}

/** A SharedReading per key (e.g. per page of an answer), at most `maxKeys` of them kept. */
export class SharedReadings<T> {
  private readonly byKey = new Map<string, SharedReading<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys = 64,
    private readonly now: () => number = Date.now,
    private readonly limit?: ComputeShareLimit,
  ) {}

  read(key: string, compute: () => Promise<T>): Promise<T> {
    let reading = this.byKey.get(key);
    if (!reading) {
      if (this.byKey.size >= this.maxKeys) {
        const oldest = this.byKey.keys().next().value;
        if (oldest !== undefined) this.byKey.delete(oldest);
      }
      reading = new SharedReading<T>(this.ttlMs, this.now, this.limit);
      this.byKey.set(key, reading);
    }
    return reading.read(compute);
  }

  invalidate(): void {
    for (const reading of this.byKey.values()) reading.invalidate();
  }

  changed(maxAgeMs: number): void {
    for (const reading of this.byKey.values()) reading.changed(maxAgeMs);
  }
}
