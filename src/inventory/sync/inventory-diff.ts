import { createHash } from 'node:crypto';
import type { PartnerInventory, PartnerPax, PartnerSlot } from '../../partner/partner.types';

/** A stored pax row: the partner's fields plus its row id and its place in the partner's list. */
export interface StoredPax extends PartnerPax {
  id: number;
  position: number;
}

/** The columns of a slot row the partner decides (the date is the product-date synced). */
export interface SlotFields {
  /** YYYY-MM-DD */
  date: string;
  startTime: string;
  endTime: string;
  providerSlotId: string;
  variantId: number;
  remaining: number;
  currencyCode: string;
}

/** A stored slot of the product (pax in stored order), decimals as strings. */
export interface StoredSlot extends SlotFields {
  id: number;
  pax: StoredPax[];
}

export type PaxFields = Omit<StoredPax, 'id'>;

export interface PaxChanges {
  create: PaxFields[];
  update: Array<{ id: number; fields: PaxFields }>;
  deleteIds: number[];
}

/** Rows to write so that the stored product-date equals the partner's answer; nothing else. */
export interface InventoryDiff {
  createSlots: Array<{ fields: SlotFields; pax: PaxFields[] }>;
  updateSlots: Array<{ id: number; fields: SlotFields | null; pax: PaxChanges }>;
  deleteSlotIds: number[];
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

function slotFields(slot: PartnerSlot, date: string): SlotFields {
  return {
    date,
    startTime: slot.startTime,
    endTime: slot.endTime,
    providerSlotId: slot.providerSlotId,
    variantId: slot.variantId,
    remaining: slot.remaining,
    currencyCode: slot.currencyCode,
  };
}

function paxFields(pax: PartnerPax, position: number): PaxFields {
  return {
    type: pax.type,
    position,
    name: pax.name,
    description: pax.description,
    min: pax.min,
    max: pax.max,
    remaining: pax.remaining,
    isPrimary: pax.isPrimary,
    finalPrice: normalizeDecimal(pax.finalPrice),
    originalPrice: normalizeDecimal(pax.originalPrice),
    discount: normalizeDecimal(pax.discount),
    currencyCode: pax.currencyCode,
  };
}

function sameSlot(stored: StoredSlot, next: SlotFields): boolean {
  return (
    stored.date === next.date &&
    stored.startTime === next.startTime &&
    stored.endTime === next.endTime &&
    stored.variantId === next.variantId &&
    stored.remaining === next.remaining &&
    stored.currencyCode === next.currencyCode
  );
}

function samePax(stored: StoredPax, next: PaxFields): boolean {
  return (
    stored.position === next.position &&
    stored.name === next.name &&
    stored.description === next.description &&
    stored.min === next.min &&
    stored.max === next.max &&
    stored.remaining === next.remaining &&
    stored.isPrimary === next.isPrimary &&
    normalizeDecimal(stored.finalPrice) === next.finalPrice &&
    normalizeDecimal(stored.originalPrice) === next.originalPrice &&
    normalizeDecimal(stored.discount) === next.discount &&
    stored.currencyCode === next.currencyCode
  );
}

function diffPax(stored: StoredPax[], incoming: PartnerPax[]): PaxChanges {
  const byType = new Map(stored.map((p) => [p.type, p]));
  const seen = new Set<string>();
  const changes: PaxChanges = { create: [], update: [], deleteIds: [] };
  incoming.forEach((pax, position) => {
    const fields = paxFields(pax, position);
    seen.add(pax.type);
    const existing = byType.get(pax.type);
    if (!existing) changes.create.push(fields);
    else if (!samePax(existing, fields)) changes.update.push({ id: existing.id, fields });
  });
  for (const p of stored) if (!seen.has(p.type)) changes.deleteIds.push(p.id);
  return changes;
}

/**
 * What to write to make the stored slots of one product-date match the partner's answer.
 * `stored` holds the product's slots on `date` plus any of its slots (on other dates) whose
 * providerSlotId the answer names, since slots are unique per product, not per date.
 * Unchanged rows appear nowhere in the diff, so they are not written.
 */
export function diffInventory(
  date: string,
  stored: readonly StoredSlot[],
  incoming: PartnerInventory,
): InventoryDiff {
  const byProviderId = new Map(stored.map((s) => [s.providerSlotId, s]));
  const diff: InventoryDiff = { createSlots: [], updateSlots: [], deleteSlotIds: [] };
  const seen = new Set<string>();
  for (const slot of incoming) {
    seen.add(slot.providerSlotId);
    const fields = slotFields(slot, date);
    const existing = byProviderId.get(slot.providerSlotId);
    if (!existing) {
      diff.createSlots.push({ fields, pax: slot.paxAvailability.map(paxFields) });
      continue;
    }
    const pax = diffPax(existing.pax, slot.paxAvailability);
    const slotChanged = !sameSlot(existing, fields);
    if (slotChanged || pax.create.length + pax.update.length + pax.deleteIds.length > 0) {
      diff.updateSlots.push({ id: existing.id, fields: slotChanged ? fields : null, pax });
    }
  }
  for (const s of stored) {
    if (s.date === date && !seen.has(s.providerSlotId)) diff.deleteSlotIds.push(s.id);
  }
  return diff;
}

export function isEmptyDiff(diff: InventoryDiff): boolean {
  return (
    diff.createSlots.length === 0 &&
    diff.updateSlots.length === 0 &&
    diff.deleteSlotIds.length === 0
  );
}

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
