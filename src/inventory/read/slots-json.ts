import { Prisma } from '../../generated/prisma/client';

/**
 * The slots of one product-date as the API's JSON text, built by PostgreSQL from the slots and
 * pax rows. The one source of that text: the live read (`slotsQuery`) and the answer the sync
 * stores (`SlotAnswersRepository`) both embed this expression, so they give the same bytes, and
 * so the same ETag.
 * - The text is exactly what JSON.stringify gives for the same Slot[]: compact, keys in the DTO's
 *   order, strings through to_json (JSON escaping), prices through trim_scale (212.1400 → 212.14,
 *   the shortest form a JSON number of that decimal prints as), booleans through ::text (format's
 *   %s alone would print t/f). json_build_object / json_agg are not used: they add spaces, and
 *   row_to_json cost PostgreSQL more per row than format().
 * - A slot's price is its primary pax type's, else the first in the partner's order; a slot
 *   stored without any pax type has no price and nothing to book, so it is left out.
 * Served by the index slots(product_id, date, start_time). `productId` and `date` are a value
 * (sent as a parameter) or an SQL expression of the enclosing statement (a column).
 */
export function slotsJson(productId: number | Prisma.Sql, date: string | Prisma.Sql): Prisma.Sql {
  const product = typeof productId === 'number' ? Prisma.sql`${productId}::int` : productId;
  const day = typeof date === 'string' ? Prisma.sql`${date}::date` : date;
  return Prisma.sql`'[' || coalesce((
             SELECT string_agg(
                      format('{"startDate":"%s","startTime":%s,"endTime":%s,"price":%s,"remaining":%s,'
                               '"paxAvailability":[%s],"providerSlotId":%s,"variantId":%s}',
                             to_char(s.date, 'YYYY-MM-DD'), to_json(s.start_time), to_json(s.end_time),
                             px.price, s.remaining, px.list, to_json(s.provider_slot_id), s.variant_id),
                      ',' ORDER BY s.start_time, s.id)
             FROM slots s
             CROSS JOIN LATERAL (
               SELECT string_agg(
                        format('{"type":%s,"name":%s,"description":%s,"price":%s,"min":%s,"max":%s,'
                                 '"remaining":%s,"isPrimary":%s}',
                               to_json(p.type), to_json(p.name), to_json(p.description), pr.price,
                               p.min, p.max, p.remaining, p.is_primary::text),
                        ',' ORDER BY p.position) AS list,
                      (array_agg(pr.price ORDER BY p.is_primary DESC, p.position))[1] AS price
               FROM pax_availability p
               CROSS JOIN LATERAL (
                 SELECT format('{"finalPrice":%s,"originalPrice":%s,"currencyCode":%s,"discount":%s}',
                               trim_scale(p.final_price), trim_scale(p.original_price),
                               to_json(p.currency_code), trim_scale(p.discount)) AS price
               ) pr
               WHERE p.slot_id = s.id
             ) px
             WHERE s.product_id = ${product} AND s.date = ${day}
               AND px.list IS NOT NULL
           ), '') || ']'`;
}
