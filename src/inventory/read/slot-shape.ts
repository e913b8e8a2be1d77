/**
 * Price rules of the read API, as pure functions over stored rows. Prices are carried as the
 * decimal strings PostgreSQL returns (numeric::text), so no rounding happens on the way.
 */

/** A price as the API serves it (the assignment's Price, plus the additive `discount`). */
export interface ApiPrice {
  finalPrice: number;
  originalPrice: number;
  currencyCode: string;
  discount: number;
}

/** The price columns of one stored pax row. */
export interface StoredPrice {
  finalPrice: string;
  originalPrice: string;
  discount: string;
  currencyCode: string;
}

/**
 * A stored NUMERIC(14,4) as a JSON number with exactly the stored value: "212.1400" → 212.14.
 * Number() of a decimal string yields the double closest to it, whose shortest printed form is
 * that same decimal for every value of up to 15 significant digits (14,4 has at most 14).
 */
export function decimalToNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`not a decimal: ${JSON.stringify(value)}`);
  return n;
}

export function toApiPrice(p: StoredPrice): ApiPrice {
  return {
    finalPrice: decimalToNumber(p.finalPrice),
    originalPrice: decimalToNumber(p.originalPrice),
    currencyCode: p.currencyCode,
    discount: decimalToNumber(p.discount),
  };
}

/**
 * The pax whose price is the slot's price: the primary one (isPrimary), else the first in the
 * partner's order. Undefined for a slot without pax types (it has no price to show).
 */
export function pricingPax<T extends { isPrimary: boolean; position: number }>(
  pax: readonly T[],
): T | undefined {
  const byPosition = [...pax].sort((a, b) => a.position - b.position);
  return byPosition.find((p) => p.isPrimary) ?? byPosition[0];
}

/** One row of the slots query: a slot joined with one of its pax (pax columns null if it has none). */
export interface SlotPaxRow {
  slotId: number;
  startDate: string;
  startTime: string;
  endTime: string;
  providerSlotId: string;
  variantId: number;
  remaining: number;
  paxType: string | null;
  paxName: string | null;
  paxDescription: string | null;
  paxMin: number | null;
  paxMax: number | null;
  paxRemaining: number | null;
  paxPosition: number | null;
  paxIsPrimary: boolean | null;
  paxFinalPrice: string | null;
  paxOriginalPrice: string | null;
  paxDiscount: string | null;
  paxCurrencyCode: string | null;
}

export interface ApiPax {
  type: string;
  name: string;
  description: string;
  price: ApiPrice;
  min: number;
  max: number;
  remaining: number;
  isPrimary: boolean;
}

export interface ApiSlot {
  startDate: string;
  startTime: string;
  endTime: string;
  price: ApiPrice;
  remaining: number;
  paxAvailability: ApiPax[];
  providerSlotId: string;
  variantId: number;
}

/**
 * Groups the rows of one product-date (ordered by start time, slot, pax position) into the API's
 * Slot[]. A slot stored without any pax type has no price and nothing to book, so it is left out.
 */
export function buildSlots(rows: readonly SlotPaxRow[]): ApiSlot[] {
  const slots: ApiSlot[] = [];
  let current: { row: SlotPaxRow; pax: (ApiPax & { position: number })[] } | undefined;
  const flush = (): void => {
    if (!current || current.pax.length === 0) return;
    const chosen = pricingPax(current.pax)!;
    slots.push({
      startDate: current.row.startDate,
      startTime: current.row.startTime,
      endTime: current.row.endTime,
      price: { ...chosen.price },
      remaining: current.row.remaining,
      paxAvailability: [...current.pax]
        .sort((a, b) => a.position - b.position)
        .map(({ position: _position, ...pax }) => pax),
      providerSlotId: current.row.providerSlotId,
      variantId: current.row.variantId,
    });
  };
  for (const row of rows) {
    if (current?.row.slotId !== row.slotId) {
      flush();
      current = { row, pax: [] };
    }
    if (row.paxType === null) continue;
    const isPrimary = row.paxIsPrimary === true;
    const position = row.paxPosition ?? 0;
    current.pax.push({
      type: row.paxType,
      name: row.paxName ?? '',
      description: row.paxDescription ?? '',
      price: toApiPrice(priceOf(row)),
      min: row.paxMin ?? 0,
      max: row.paxMax ?? 0,
      remaining: row.paxRemaining ?? 0,
      isPrimary,
      position,
    });
  }
  flush();
  return slots;
}

function priceOf(row: SlotPaxRow): StoredPrice {
  return {
    finalPrice: row.paxFinalPrice ?? '0',
    originalPrice: row.paxOriginalPrice ?? '0',
    discount: row.paxDiscount ?? '0',
    currencyCode: row.paxCurrencyCode ?? '',
  };
}

/** One row of the dates query: a date and the price of its cheapest slot with seats left. */
export interface DatePriceRow extends StoredPrice {
  date: string;
}

export interface ApiDateAvailability {
  date: string;
  price: ApiPrice;
}

export function buildDates(rows: readonly DatePriceRow[]): { dates: ApiDateAvailability[] } {
  return { dates: rows.map((r) => ({ date: r.date, price: toApiPrice(r) })) };
}
