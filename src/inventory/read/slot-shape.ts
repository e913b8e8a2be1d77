/**
 * The dates answer's shape and prices, as pure functions over stored rows. Prices are carried as
 * the decimal strings PostgreSQL returns (numeric::text), so no rounding happens on the way. (The
 * slots answer is built as JSON text by PostgreSQL itself: slotsJson in slots-json.ts.)
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
