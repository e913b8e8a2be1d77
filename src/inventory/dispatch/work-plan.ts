import { productDateKey } from '../due/due-list';
import type { RankedEntry, RankReason } from '../due/value-rank.repository';

/** What the last rank found, for status and the page. */
export interface WorkPlanSnapshot {
  rankedAt: Date | null;
  /** How long the rank's statements took, ms. */
  rankMs: number | null;
  /** Deadline buckets (minutes) whose rows the floor forces now (0: none). */
  forcedBuckets: number;
  /** Per list, the entries ranked and the ones still to take. */
  lists: Record<RankReason, { ranked: number; left: number }>;
  /** The next product-dates in the order they would be taken (a spare turn assumed). */
  next: RankedEntry[];
}

const REASONS: readonly RankReason[] = ['floor', 'never', 'value', 'due'];

/**
 * The value rule's ranking between two ranks, taken lazily (the leader ranks every
 * valueRuleTiming's rerankMs, or when the lists run out): the floor's rows first, and only when a key has
 * spare room (SYNC_BUDGET_SHARE) the never-synced due dates, then the calls of highest value, then
 * due dates with no value yet. An entry taken, or in flight, is not taken again before the next
 * rank. Pure state: the dispatcher ranks and hands over.
 */
export class WorkPlan {
  private floor: RankedEntry[] = [];
  private spare: RankedEntry[] = [];
  /** How far each list has been taken (a list is read in order once, without copying it). */
  private floorHead = 0;
  private spareHead = 0;
  private readonly taken = new Set<string>();
  private ranked: Record<RankReason, number> = { floor: 0, never: 0, value: 0, due: 0 };
  private rankedAtMs = -Infinity;
  private rankMs: number | null = null;
  private forcedBuckets = 0;

  /** Replaces the lists with a new rank's (`entries` in the repository's order). */
  load(
    entries: readonly RankedEntry[],
    at: number,
    info: { rankMs: number; forcedBuckets: number },
  ): void {
    this.floor = entries.filter((e) => e.why === 'floor');
    // A row can be in several lists (forced and valuable): the first place it is taken counts.
    this.spare = entries.filter((e) => e.why !== 'floor');
    this.floorHead = 0;
    this.spareHead = 0;
    this.taken.clear();
    this.ranked = { floor: 0, never: 0, value: 0, due: 0 };
    for (const e of entries) this.ranked[e.why]++;
    this.rankedAtMs = at;
    this.rankMs = info.rankMs;
    this.forcedBuckets = info.forcedBuckets;
  }

  /** Forgets the rank (a lost lease, a pause): the next turn ranks afresh. */
  clear(): void {
    this.floor = [];
    this.spare = [];
    this.floorHead = 0;
    this.spareHead = 0;
    this.taken.clear();
    this.rankedAtMs = -Infinity;
  }

  get rankedAt(): number {
    return this.rankedAtMs;
  }

  /**
   * Up to `room` entries: the floor's first, then at most `spareRoom` from the spare lists.
   * `busy(key)` says a product-date is in flight (taken by other means: a manual run).
   */
  take(room: number, spareRoom: number, busy: (key: string) => boolean): RankedEntry[] {
    const out: RankedEntry[] = [];
    const from = (list: RankedEntry[], head: number, max: number): number => {
      while (out.length < max && head < list.length) {
        const e = list[head++];
        const key = productDateKey(e.productId, e.date);
        if (this.taken.has(key) || busy(key)) continue;
        this.taken.add(key);
        out.push(e);
      }
      return head;
    };
    this.floorHead = from(this.floor, this.floorHead, room);
    this.spareHead = from(
      this.spare,
      this.spareHead,
      Math.min(room, out.length + Math.max(0, spareRoom)),
    );
    return out;
  }

  /** True when nothing is left to take in the mode asked (with spare room or without). */
  usedUp(spare: boolean): boolean {
    return this.floorHead >= this.floor.length && (!spare || this.spareHead >= this.spare.length);
  }

  snapshot(nextCount = 10): WorkPlanSnapshot {
    const left: Record<RankReason, number> = { floor: 0, never: 0, value: 0, due: 0 };
    const floor = this.floor.slice(this.floorHead);
    const spare = this.spare.slice(this.spareHead);
    for (const e of floor) left[e.why]++;
    for (const e of spare) left[e.why]++;
    const seen = new Set<string>();
    const next: RankedEntry[] = [];
    for (const e of [...floor, ...spare]) {
      const key = productDateKey(e.productId, e.date);
      if (this.taken.has(key) || seen.has(key)) continue;
      seen.add(key);
      next.push(e);
      if (next.length >= nextCount) break;
    }
    return {
      rankedAt: Number.isFinite(this.rankedAtMs) ? new Date(this.rankedAtMs) : null,
      rankMs: this.rankMs,
      forcedBuckets: this.forcedBuckets,
      lists: Object.fromEntries(
        REASONS.map((r) => [r, { ranked: this.ranked[r], left: left[r] }]),
      ) as WorkPlanSnapshot['lists'],
      next,
    };
  }
}
