import { isCalendarDate } from '../calendar';

/** PostgreSQL's integer, the type of products.id. */
export const MAX_PRODUCT_ID = 2_147_483_647;

const MAX_ECHO = 40;

/** The client's value quoted for an error message, cut short so a huge input is not echoed back. */
export function quote(value: string): string {
  const chars = [...value];
  return JSON.stringify(chars.length > MAX_ECHO ? `${chars.slice(0, MAX_ECHO).join('')}…` : value);
}

/** Why `value` is not a product id (a decimal integer 1..2147483647), or undefined when it is. */
export function productIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'productId must be a positive integer';
  if (/^[1-9]\d{0,9}$/.test(value) && Number(value) <= MAX_PRODUCT_ID) return undefined;
  return `productId must be a positive integer between 1 and ${MAX_PRODUCT_ID} written in digits, got ${quote(value)}`;
}

/** Why `value` is not a single calendar date in YYYY-MM-DD, or undefined when it is. */
export function calendarDateProblem(value: unknown): string | undefined {
  const expected = 'a calendar date in YYYY-MM-DD format, e.g. 2025-04-03';
  if (value === undefined) return `date is required: ${expected}`;
  if (Array.isArray(value))
    return `date must be given once, as ${expected}; got ${value.length} values`;
  if (typeof value !== 'string') return `date must be ${expected}`;
  // Year 0000 does not exist in PostgreSQL's calendar.
  if (isCalendarDate(value) && !value.startsWith('0000')) return undefined;
  return `date must be ${expected}, got ${quote(value)}`;
}
