/**
 * The partner calls the cluster made in the last rate window, by start time on the database clock
 * (epoch ms). Every leader appends to it before each call and publishes it in the lease row, so a
 * new leader starts from what its predecessor really spent: the key's budget is per key, not per
 * instance, and a takeover inside one window must not spend it twice.
 */
export class PartnerCallLedger {
  private calls: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Adds calls another leader recorded (duplicates and out-of-window ones are dropped). */
  seed(calls: readonly number[], now: number, marginMs = 0): void {
    const seeded = calls.filter((c) => Number.isFinite(c)).map((c) => c + marginMs);
    // Union as multisets: two calls may share a millisecond; the same call seen twice counts once.
    const count = (list: number[]) => {
      const m = new Map<number, number>();
      for (const c of list) m.set(c, (m.get(c) ?? 0) + 1);
      return m;
    };
    const own = count(this.calls);
    const theirs = count(seeded);
    const merged: number[] = [];
    for (const t of new Set([...own.keys(), ...theirs.keys()])) {
      const n = Math.max(own.get(t) ?? 0, theirs.get(t) ?? 0);
      for (let i = 0; i < n; i++) merged.push(t);
    }
    this.calls = merged.sort((a, b) => a - b);
    this.prune(now);
  }

  /** Milliseconds to wait before one more call fits in the window (0: it fits now). */
  waitMs(now: number): number {
    this.prune(now);
    if (this.calls.length < this.limit) return 0;
    const oldestThatMustAge = this.calls[this.calls.length - this.limit];
    return Math.max(1, oldestThatMustAge + this.windowMs - now + 1);
  }

  record(now: number): void {
    this.calls.push(now);
    this.calls.sort((a, b) => a - b);
    this.prune(now);
  }

  /** Forgets one recorded call (a reservation replaced by the real start time). */
  remove(at: number): void {
    const i = this.calls.lastIndexOf(at);
    if (i >= 0) this.calls.splice(i, 1);
  }

  /** The calls still inside the window, oldest first. */
  snapshot(now: number): number[] {
    this.prune(now);
    return [...this.calls];
  }

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    let i = 0;
    while (i < this.calls.length && this.calls[i] <= cutoff) i++;
    if (i > 0) this.calls = this.calls.slice(i);
  }
}
