import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { PartnerSlotDto, type PartnerPaxDto } from './dto/partner-inventory.dto';
import { PartnerInvalidPayloadError } from './partner-errors';
import type { PartnerInventory, PartnerPax, PartnerSlot } from './partner.types';

const TYPE_CHECKS = [
  'isDefined',
  'isObject',
  'isArray',
  'isNumber',
  'isInt',
  'isString',
  'isBoolean',
];

/** The first failing leaf of a class-validator error tree, as a path like ".paxAvailability[0].price.finalPrice". */
function firstFailure(error: ValidationError, path = ''): { field: string; reason: string } {
  const here = /^\d+$/.test(error.property)
    ? `${path}[${error.property}]`
    : `${path}.${error.property}`;
  const constraints = error.constraints ?? {};
  // A wrong type explains more than the range check that fails because of it.
  const first = TYPE_CHECKS.find((k) => k in constraints) ?? Object.keys(constraints)[0];
  const reason = first ? constraints[first] : undefined;
  if (reason) return { field: here, reason };
  const child = error.children?.[0];
  return child ? firstFailure(child, here) : { field: here, reason: 'is invalid' };
}

/**
 * A JSON number as the exact decimal string the partner wrote (212.14 → "212.14"). Numbers whose
 * shortest form needs an exponent or more than 4 decimals would not survive storage: rejected.
 */
export function decimalString(value: number, field: string): string {
  const text = String(value);
  if (!/^\d{1,10}(\.\d{1,4})?$/.test(text)) {
    throw new PartnerInvalidPayloadError(field, `${text} is not a decimal with at most 4 places`);
  }
  return text;
}

function toPax(pax: PartnerPaxDto, at: string): PartnerPax {
  return {
    type: pax.type,
    name: pax.name,
    description: pax.description,
    min: pax.min,
    max: pax.max,
    remaining: pax.remaining,
    isPrimary: pax.isPrimary === true,
    finalPrice: decimalString(pax.price.finalPrice, `${at}.price.finalPrice`),
    originalPrice: decimalString(pax.price.originalPrice, `${at}.price.originalPrice`),
    discount: decimalString(pax.price.discount, `${at}.price.discount`),
    currencyCode: pax.price.currencyCode,
  };
}

/**
 * Validates a partner response body (already JSON-parsed) against the contract and returns the
 * domain inventory of the requested `date`. Throws PartnerInvalidPayloadError naming the first bad
 * field, e.g. "[3].paxAvailability[0].price.finalPrice". Nothing partial is ever returned.
 */
export function parsePartnerInventory(body: unknown, date: string): PartnerInventory {
  if (!Array.isArray(body)) {
    throw new PartnerInvalidPayloadError('', `expected an array of slots, got ${kind(body)}`);
  }
  const slots: PartnerSlot[] = [];
  const slotIds = new Set<string>();
  body.forEach((raw: unknown, i) => {
    const at = `[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new PartnerInvalidPayloadError(at, `expected a slot object, got ${kind(raw)}`);
    }
    const dto = plainToInstance(PartnerSlotDto, raw);
    const errors = validateSync(dto, { forbidUnknownValues: false });
    if (errors.length > 0) {
      const { field, reason } = firstFailure(errors[0], at);
      throw new PartnerInvalidPayloadError(field, reason);
    }
    // Stored under the requested date, a slot of another day would overwrite (or move) that
    // day's row of the same providerSlotId: the whole answer is suspect, so none of it is kept.
    if (dto.startDate !== date) {
      throw new PartnerInvalidPayloadError(
        `${at}.startDate`,
        `${dto.startDate} is not the requested date ${date}`,
      );
    }
    if (slotIds.has(dto.providerSlotId)) {
      throw new PartnerInvalidPayloadError(`${at}.providerSlotId`, 'duplicate providerSlotId');
    }
    slotIds.add(dto.providerSlotId);
    const paxTypes = new Set<string>();
    const pax = dto.paxAvailability.map((p, j) => {
      const paxAt = `${at}.paxAvailability[${j}]`;
      if (paxTypes.has(p.type)) {
        throw new PartnerInvalidPayloadError(`${paxAt}.type`, 'duplicate pax type in one slot');
      }
      paxTypes.add(p.type);
      return toPax(p, paxAt);
    });
    slots.push({
      startDate: dto.startDate,
      startTime: dto.startTime,
      endTime: dto.endTime,
      providerSlotId: dto.providerSlotId,
      remaining: dto.remaining,
      currencyCode: dto.currencyCode,
      variantId: dto.variantId,
      paxAvailability: pax,
    });
  });
  return slots;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
