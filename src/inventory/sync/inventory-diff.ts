import { createHash } from 'node:crypto';
import { PartnerInvalidPayloadError } from '../../partner/partner-errors';
import type { PartnerInventory } from '../../partner/partner.types';

/**
 * One answer as column arrays, the shape PostgreSQL's unnest() turns back into rows: the store
 * sends a whole product-date in a few set-based statements, and the database works out what
 * differs from the stored rows (so only those are written).
 */
export interface SlotColumns {
  providerSlotId: string[];
  startTime: string[];
  endTime: string[];
  variantId: number[];
  remaining: number[];
  currencyCode: string[];
}

/** Pax rows, keyed by their slot's providerSlotId and their type; decimals as exact strings. */
export interface PaxColumns {
  providerSlotId: string[];
  type: string[];
  position: number[];
  name: string[];
  description: string[];
  min: number[];
  max: number[];
  remaining: number[];
  isPrimary: boolean[];
  finalPrice: string[];
  originalPrice: string[];
  discount: string[];
  currencyCode: string[];
}

export interface StoreColumns {
  slots: SlotColumns;
  pax: PaxColumns;
}

/** "212.1400" and "212.14" are the same price: compare decimals by value, not spelling. */
export function normalizeDecimal(value: string): string {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) return value;
  const int = m[2].replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const sign = m[1] && (int !== '0' || frac !== '') ? '-' : '';
  return `${sign}${int}${frac ? `.${frac}` : ''}`;
}

/**
 * The rows one answer for `date` stores. A slot that names another startDate, or a key given twice,
 * is refused before anything is written: stored under `date`, it would overwrite another row.
 */
export function storeColumns(date: string, inventory: PartnerInventory): StoreColumns {
  const slots: SlotColumns = {
    providerSlotId: [],
    startTime: [],
    endTime: [],
    variantId: [],
    remaining: [],
    currencyCode: [],
  };
  const pax: PaxColumns = {
    providerSlotId: [],
    type: [],
    position: [],
    name: [],
    description: [],
    min: [],
    max: [],
    remaining: [],
    isPrimary: [],
    finalPrice: [],
    originalPrice: [],
    discount: [],
    currencyCode: [],
  };
  const seen = new Set<string>();
  inventory.forEach((slot, i) => {
    if (slot.startDate !== date) {
      throw new PartnerInvalidPayloadError(
        `[${i}].startDate`,
        `${slot.startDate} is not the requested date ${date}`,
      );
    }
    if (seen.has(slot.providerSlotId)) {
      throw new PartnerInvalidPayloadError(`[${i}].providerSlotId`, 'duplicate providerSlotId');
    }
    seen.add(slot.providerSlotId);
    slots.providerSlotId.push(slot.providerSlotId);
    slots.startTime.push(slot.startTime);
    slots.endTime.push(slot.endTime);
    slots.variantId.push(slot.variantId);
    slots.remaining.push(slot.remaining);
    slots.currencyCode.push(slot.currencyCode);
    const types = new Set<string>();
    slot.paxAvailability.forEach((p, position) => {
      if (types.has(p.type)) {
        throw new PartnerInvalidPayloadError(
          `[${i}].paxAvailability[${position}].type`,
          'duplicate pax type in one slot',
        );
      }
      types.add(p.type);
      pax.providerSlotId.push(slot.providerSlotId);
      pax.type.push(p.type);
      pax.position.push(position);
      pax.name.push(p.name);
      pax.description.push(p.description);
      pax.min.push(p.min);
      pax.max.push(p.max);
      pax.remaining.push(p.remaining);
      pax.isPrimary.push(p.isPrimary);
      pax.finalPrice.push(normalizeDecimal(p.finalPrice));
      pax.originalPrice.push(normalizeDecimal(p.originalPrice));
      pax.discount.push(normalizeDecimal(p.discount));
      pax.currencyCode.push(p.currencyCode);
    });
  });
  return { slots, pax };
}

/**
 * How long the store of one answer may hold its transaction. Its few set-based statements cost
 * about 0.05 ms per row on the 2-core test machine under load (5,000 slots × 3 pax: 0.8 s, see
 * BENCHMARKS.md): the base plus 1 ms per row leaves a margin of twenty, and a stuck store is
 * still given up on instead of holding its lock forever.
 */
export function storeTimeoutMs(slotRows: number, paxRows: number): number {
  return STORE_TIMEOUT_BASE_MS + slotRows + paxRows;
}

export const STORE_TIMEOUT_BASE_MS = 10_000;

/**
 * sha256 of a canonical form of the validated answer: slots ordered by providerSlotId, fields in
 * a fixed order, decimals normalised. Equal hashes mean nothing to write.
 */
export function inventoryHash(inventory: PartnerInventory): string {
  const canonical = [...inventory]
    .sort((a, b) =>
      a.providerSlotId < b.providerSlotId ? -1 : a.providerSlotId > b.providerSlotId ? 1 : 0,
    )
    .map((s) => [
      s.providerSlotId,
      s.startDate,
      s.startTime,
      s.endTime,
      s.variantId,
      s.remaining,
      s.currencyCode,
      s.paxAvailability.map((p) => [
        p.type,
        p.name,
        p.description,
        p.min,
        p.max,
        p.remaining,
        p.isPrimary,
        normalizeDecimal(p.finalPrice),
        normalizeDecimal(p.originalPrice),
        normalizeDecimal(p.discount),
        p.currencyCode,
      ]),
    ]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
