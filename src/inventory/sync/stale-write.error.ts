import { DomainError } from '../../common/domain-error';

/**
 * Why a write of a fetch's outcome was refused: `fenced`, this instance no longer holds the lease
 * term it fetched under (another instance leads now); `superseded`, the stored data was fetched
 * later than this attempt began.
 */
export type StaleWriteReason = 'fenced' | 'superseded';

/**
 * A store (or failure record) that would replace newer knowledge with an older fetch's: refused
 * inside its transaction, so nothing of it is written.
 */
export class StaleWriteError extends DomainError {
  readonly httpStatus = 409;

  constructor(
    readonly productId: number,
    readonly date: string,
    readonly reason: StaleWriteReason,
  ) {
    super(
      reason === 'fenced'
        ? `Not stored: ${productId}/${date} was fetched under a lease term this instance no longer holds`
        : `Not stored: the data stored for ${productId}/${date} was fetched after this attempt began`,
    );
  }
}
