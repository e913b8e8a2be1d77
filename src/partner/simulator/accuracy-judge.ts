/**
 * The judge of a read: what the service served for a product-date against the partner's truth at
 * that moment. Pure, so the real-service load generator and the virtual-time model judge alike.
 * A read is fresh when every slot, seat count and price equals the partner's; a slot with seats
 * in the answer and none at the partner (sold out or gone) is counted apart as sold out shown
 * bookable, the costliest kind of stale (a failed booking).
 */

/** What the judge compares of a slot: the partner's wire slot and the service's answer both fit. */
export interface JudgedSlot {
  startTime: string;
  providerSlotId?: string;
  remaining: number;
  paxAvailability: ReadonlyArray<{
    type: string;
    remaining: number;
    price: { finalPrice: number; originalPrice: number; currencyCode: string };
  }>;
}

export interface ReadVerdict {
  fresh: boolean;
  soldOutShownBookable: boolean;
  /** The first difference found, for a report (null when fresh). */
  difference: string | null;
}

const slotKey = (s: JudgedSlot): string => s.providerSlotId ?? s.startTime;

function paxDifference(served: JudgedSlot, truth: JudgedSlot): string | null {
  const at = `slot ${slotKey(truth)}`;
  if (served.paxAvailability.length !== truth.paxAvailability.length) return `${at}: pax types`;
  const byType = new Map(truth.paxAvailability.map((p) => [p.type, p]));
  for (const pax of served.paxAvailability) {
    const t = byType.get(pax.type);
    if (!t) return `${at}: pax ${pax.type} not at the partner`;
    if (pax.remaining !== t.remaining)
      return `${at} ${pax.type}: ${pax.remaining} seats, partner ${t.remaining}`;
    const a = pax.price;
    const b = t.price;
    if (a.finalPrice !== b.finalPrice || a.originalPrice !== b.originalPrice)
      return `${at} ${pax.type}: price ${a.finalPrice}/${a.originalPrice}, partner ${b.finalPrice}/${b.originalPrice}`;
    if (a.currencyCode !== b.currencyCode) return `${at} ${pax.type}: currency`;
  }
  return null;
}

/** Judges one read: `served` is the service's answer, `truth` the partner's at that instant. */
export function judgeRead(
  served: readonly JudgedSlot[],
  truth: readonly JudgedSlot[],
): ReadVerdict {
  const partner = new Map(truth.map((s) => [slotKey(s), s]));
  let difference: string | null = null;
  let soldOutShownBookable = false;
  for (const s of served) {
    const t = partner.get(slotKey(s));
    if (s.remaining > 0 && (!t || t.remaining <= 0)) soldOutShownBookable = true;
    if (difference) continue;
    if (!t) difference = `slot ${slotKey(s)} not at the partner`;
    else if (s.remaining !== t.remaining)
      difference = `slot ${slotKey(s)}: ${s.remaining} seats, partner ${t.remaining}`;
    else difference = paxDifference(s, t);
  }
  if (!difference && served.length !== truth.length) {
    const ours = new Set(served.map(slotKey));
    const missing = truth.find((t) => !ours.has(slotKey(t)));
    difference = `slot ${missing ? slotKey(missing) : '?'} missing`;
  }
  return { fresh: difference === null, soldOutShownBookable, difference };
}

/** The horizons reads are reported by (days ahead), as the sync's horizons. */
export const READ_HORIZONS = ['today', '+1..+6', '+7..+29', '+30..+59'] as const;
export type ReadHorizon = (typeof READ_HORIZONS)[number];

export function readHorizon(days: number): ReadHorizon {
  if (days <= 0) return 'today';
  if (days <= 6) return '+1..+6';
  if (days <= 29) return '+7..+29';
  return '+30..+59';
}

/** Popularity decile of a product (0 = the most read tenth); ids are popularity ranks 1..products. */
export function popularityDecile(productId: number, products: number): number {
  return Math.min(9, Math.floor(((productId - 1) * 10) / Math.max(1, products)));
}

interface Count {
  reads: number;
  fresh: number;
  soldOutShownBookable: number;
}
const emptyCount = (): Count => ({ reads: 0, fresh: 0, soldOutShownBookable: 0 });

/** Verdicts counted overall, per horizon and per popularity decile. */
export class AccuracyTally {
  readonly all = emptyCount();
  readonly byHorizon = new Map<ReadHorizon, Count>(READ_HORIZONS.map((h) => [h, emptyCount()]));
  readonly byDecile = Array.from({ length: 10 }, emptyCount);

  add(
    verdict: Pick<ReadVerdict, 'fresh' | 'soldOutShownBookable'>,
    days: number,
    decile: number,
  ): void {
    for (const c of [this.all, this.byHorizon.get(readHorizon(days))!, this.byDecile[decile]]) {
      c.reads++;
      if (verdict.fresh) c.fresh++;
      if (verdict.soldOutShownBookable) c.soldOutShownBookable++;
    }
  }

  static share(c: Count, of: 'fresh' | 'soldOutShownBookable'): number {
    return c.reads === 0 ? NaN : c[of] / c.reads;
  }

  summary(): AccuracySummary {
    return {
      reads: this.all.reads,
      fresh: AccuracyTally.share(this.all, 'fresh'),
      freshTopDecile: AccuracyTally.share(this.byDecile[0], 'fresh'),
      soldOutShownBookable: AccuracyTally.share(this.all, 'soldOutShownBookable'),
      freshByHorizon: Object.fromEntries(
        READ_HORIZONS.map((h) => [h, AccuracyTally.share(this.byHorizon.get(h)!, 'fresh')]),
      ) as Record<ReadHorizon, number>,
      freshByDecile: this.byDecile.map((c) => AccuracyTally.share(c, 'fresh')),
    };
  }
}

export interface AccuracySummary {
  reads: number;
  /** Shares of reads (0..1; NaN when there were none). */
  fresh: number;
  freshTopDecile: number;
  soldOutShownBookable: number;
  freshByHorizon: Record<ReadHorizon, number>;
  freshByDecile: number[];
}
