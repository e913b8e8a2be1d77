import { DomainError } from '../../common/domain-error';
import { SYNC_WINDOWS } from '../sync-window';

/** A manual run named a product this service does not keep in sync. */
export class UnknownProductError extends DomainError {
  readonly httpStatus = 400;
  constructor(ids: number[], configured: number[]) {
    super(
      `Product ${ids.join(', ')} is not synced by this service (SYNC_PRODUCT_IDS: ${configured.join(', ')})`,
    );
  }
}

/** A manual run named no known window. */
export class UnknownWindowError extends DomainError {
  readonly httpStatus = 400;
  constructor(window: unknown) {
    super(`window must be one of ${SYNC_WINDOWS.join(', ')}, got ${JSON.stringify(window)}`);
  }
}
