/**
 * The partner's inventory after validation: what the rest of the service works with.
 * Prices are decimal strings exactly as the partner sent them ("212.14"), never floats.
 */
export interface PartnerPax {
  type: string;
  name: string;
  description: string;
  min: number;
  max: number;
  remaining: number;
  isPrimary: boolean;
  finalPrice: string;
  originalPrice: string;
  discount: string;
  currencyCode: string;
}

export interface PartnerSlot {
  startDate: string;
  startTime: string;
  endTime: string;
  providerSlotId: string;
  remaining: number;
  currencyCode: string;
  variantId: number;
  paxAvailability: PartnerPax[];
}

/** One product on one date, as returned by GET /api/v1/inventory/{productId}?date=… */
export type PartnerInventory = PartnerSlot[];

/** How a partner call ended; used as the `outcome` label of metrics and in sync records. */
export type PartnerCallOutcome =
  | 'ok'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'network_error'
  | 'invalid_payload'
  | 'unauthorized'
  | 'not_found'
  | 'client_error'
  | 'not_leader';
