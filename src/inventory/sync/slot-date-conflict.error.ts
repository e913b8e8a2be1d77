import { DomainError } from '../../common/domain-error';

/**
 * An answer for one date names a providerSlotId the product already has stored under another
 * date. Slots are unique per product, so storing it would move that row off its date: refused.
 */
export class SlotDateConflictError extends DomainError {
  /** The sync-record label of this failure (product_date_syncs.last_outcome). */
  readonly outcome = 'slot_date_conflict' as const;
  readonly httpStatus = 502;

  constructor(
    readonly productId: number,
    readonly providerSlotId: string,
    readonly storedDate: string,
    readonly requestedDate: string,
  ) {
    super(
      `Slot ${providerSlotId} of product ${productId} is stored under ${storedDate}, not ${requestedDate}; it stays there until ${storedDate} is synced without it`,
    );
  }
}
