import type { Prisma } from '../../generated/prisma/client';
import type { StoreColumns } from './inventory-diff';
import { SlotDateConflictError } from './slot-date-conflict.error';

/**
 * Makes the stored slots and pax of one product-date equal one answer, inside the caller's
 * transaction, in five set-based statements whatever the size of the answer. Each Prisma call is a
 * single SQL statement: an interactive transaction that expires can then never cut one in half
 * (the old per-row nested creates could, and their tail ran outside the transaction).
 * Rows equal to the answer are not written (guarded by IS DISTINCT FROM, decimals compared by
 * value), rows of other dates are never touched. Returns the number of rows written.
 */
export async function writeProductDate(
  tx: Prisma.TransactionClient,
  productId: number,
  date: string,
  { slots, pax }: StoreColumns,
): Promise<number> {
  // Slots gone from the answer, with their pax (ON DELETE CASCADE).
  const slotsDeleted = await tx.$executeRaw`
    DELETE FROM slots
     WHERE product_id = ${productId} AND date = ${date}::date
       AND NOT (provider_slot_id = ANY(${slots.providerSlotId}::text[]))`;

  // Pax types gone from a slot that stays.
  const paxDeleted = await tx.$executeRaw`
    DELETE FROM pax_availability p
     USING slots s
     WHERE p.slot_id = s.id AND s.product_id = ${productId} AND s.date = ${date}::date
       AND NOT EXISTS (
         SELECT 1 FROM unnest(${pax.providerSlotId}::text[], ${pax.type}::text[]) AS k(provider_slot_id, type)
          WHERE k.provider_slot_id = s.provider_slot_id AND k.type = p.type)`;

  // The date guard: a conflicting row of another date is left as it is (and reported below).
  const slotsWritten = await tx.$executeRaw`
    INSERT INTO slots AS s (product_id, date, provider_slot_id, start_time, end_time, variant_id,
                            remaining, currency_code)
    SELECT ${productId}, ${date}::date, t.*
      FROM unnest(${slots.providerSlotId}::text[], ${slots.startTime}::text[],
                  ${slots.endTime}::text[], ${slots.variantId}::int[], ${slots.remaining}::int[],
                  ${slots.currencyCode}::text[])
           AS t(provider_slot_id, start_time, end_time, variant_id, remaining, currency_code)
    ON CONFLICT (product_id, provider_slot_id) DO UPDATE
       SET start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
           variant_id = EXCLUDED.variant_id, remaining = EXCLUDED.remaining,
           currency_code = EXCLUDED.currency_code, updated_at = CURRENT_TIMESTAMP
     WHERE s.date = EXCLUDED.date
       AND (s.start_time, s.end_time, s.variant_id, s.remaining, s.currency_code)
           IS DISTINCT FROM
           (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.variant_id, EXCLUDED.remaining,
            EXCLUDED.currency_code)`;

  // Checked after the upsert, so a concurrent store of the other date that committed meanwhile
  // is seen too; throwing rolls the whole product-date back.
  const [conflict] = await tx.$queryRaw<Array<{ providerSlotId: string; date: string }>>`
    SELECT provider_slot_id AS "providerSlotId", to_char(date, 'YYYY-MM-DD') AS date
      FROM slots
     WHERE product_id = ${productId} AND date <> ${date}::date
       AND provider_slot_id = ANY(${slots.providerSlotId}::text[])
     ORDER BY provider_slot_id
     LIMIT 1`;
  if (conflict) {
    throw new SlotDateConflictError(productId, conflict.providerSlotId, conflict.date, date);
  }

  const paxWritten = await tx.$executeRaw`
    INSERT INTO pax_availability AS p (slot_id, type, position, name, description, min, max,
                                       remaining, is_primary, final_price, original_price,
                                       discount, currency_code)
    SELECT s.id, t.type, t.position, t.name, t.description, t.min, t.max, t.remaining,
           t.is_primary, t.final_price, t.original_price, t.discount, t.currency_code
      FROM unnest(${pax.providerSlotId}::text[], ${pax.type}::text[], ${pax.position}::int[],
                  ${pax.name}::text[], ${pax.description}::text[], ${pax.min}::int[],
                  ${pax.max}::int[], ${pax.remaining}::int[], ${pax.isPrimary}::bool[],
                  ${pax.finalPrice}::numeric[], ${pax.originalPrice}::numeric[],
                  ${pax.discount}::numeric[], ${pax.currencyCode}::text[])
           AS t(provider_slot_id, type, position, name, description, min, max, remaining,
                is_primary, final_price, original_price, discount, currency_code)
      JOIN slots s
        ON s.product_id = ${productId} AND s.date = ${date}::date
       AND s.provider_slot_id = t.provider_slot_id
    ON CONFLICT (slot_id, type) DO UPDATE
       SET position = EXCLUDED.position, name = EXCLUDED.name,
           description = EXCLUDED.description, min = EXCLUDED.min, max = EXCLUDED.max,
           remaining = EXCLUDED.remaining, is_primary = EXCLUDED.is_primary,
           final_price = EXCLUDED.final_price, original_price = EXCLUDED.original_price,
           discount = EXCLUDED.discount, currency_code = EXCLUDED.currency_code,
           updated_at = CURRENT_TIMESTAMP
     WHERE (p.position, p.name, p.description, p.min, p.max, p.remaining, p.is_primary,
            p.final_price, p.original_price, p.discount, p.currency_code)
           IS DISTINCT FROM
           (EXCLUDED.position, EXCLUDED.name, EXCLUDED.description, EXCLUDED.min, EXCLUDED.max,
            EXCLUDED.remaining, EXCLUDED.is_primary, EXCLUDED.final_price,
            EXCLUDED.original_price, EXCLUDED.discount, EXCLUDED.currency_code)`;

  return slotsDeleted + paxDeleted + slotsWritten + paxWritten;
}
