/** The feed's query, parsed: `after` and `productId` absent when not given. */
export interface ChangeFeedQuery {
  after: bigint | null;
  limit: number;
  productId: number | undefined;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const MAX_CURSOR = 9_223_372_036_854_775_807n;

/**
 * Parses `?after=&limit=&productId=` into a query, or returns the problem a 400 names. Pure, so
 * every rule is tested without HTTP.
 */
export function parseChangeFeedQuery(
  query: Record<string, unknown>,
): { query: ChangeFeedQuery } | { problem: string } {
  const { after, limit, productId } = query;
  let cursor: bigint | null = null;
  if (after !== undefined) {
    if (typeof after !== 'string' || !/^\d{1,19}$/.test(after) || BigInt(after) > MAX_CURSOR) {
      return {
        problem: `after must be a cursor from an earlier page (a non-negative integer), got ${JSON.stringify(after)}`,
      };
    }
    cursor = BigInt(after);
  }
  let n = DEFAULT_LIMIT;
  if (limit !== undefined) {
    if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || +limit < 1 || +limit > MAX_LIMIT) {
      return {
        problem: `limit must be an integer between 1 and ${MAX_LIMIT}, got ${JSON.stringify(limit)}`,
      };
    }
    n = Number(limit);
  }
  let product: number | undefined;
  if (productId !== undefined) {
    if (typeof productId !== 'string' || !/^[1-9]\d{0,8}$/.test(productId)) {
      return {
        problem: `productId must be a positive integer, got ${JSON.stringify(productId)}`,
      };
    }
    product = Number(productId);
  }
  return { query: { after: cursor, limit: n, productId: product } };
}
