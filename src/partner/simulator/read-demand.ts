/**
 * The read-demand model: how often a marketplace reads each product-date. Reads follow popularity
 * (Zipf over product ids, as the change model) and fall with days ahead (halving every
 * `halfLifeDays`). Pure; the load generator and the virtual-time model draw reads from it.
 */
import { popularity } from './change-model';

export interface ReadDemandParams {
  /** Zipf exponent of reads over product ids (1 = as the change model's default). */
  popularitySkew: number;
  /** Days ahead over which a date's read rate halves. */
  halfLifeDays: number;
}

export const DEFAULT_READ_DEMAND: ReadDemandParams = { popularitySkew: 1, halfLifeDays: 7 };

/** A product-date's relative read weight (product 1 today = 1). */
export function readWeight(p: ReadDemandParams, productId: number, days: number): number {
  if (days < 0) return 0;
  return popularity(productId, p.popularitySkew) * Math.pow(2, -days / p.halfLifeDays);
}

/** Picks an index with probability proportional to its weight, from a uniform u in [0, 1). */
export class WeightedPicker {
  private readonly cumulative: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      sum += Math.max(0, weights[i]);
      this.cumulative[i] = sum;
    }
  }

  get total(): number {
    return this.cumulative.length === 0 ? 0 : this.cumulative[this.cumulative.length - 1];
  }

  pick(u: number): number {
    const target = u * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
