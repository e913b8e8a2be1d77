import { publicErrorMessage } from '../../common/database-unavailable';
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

/**
 * A run was recorded but marking its product-dates due failed: the run is recorded as failed and
 * the client may try again (503, never a 500). `cause` keeps the database error, so an
 * unavailable database is still told apart (and answered as such) by its class.
 */
export class RunMarkFailedError extends DomainError {
  readonly httpStatus = 503;
  constructor(
    readonly runId: number,
    override readonly cause: unknown,
  ) {
    super(
      `Run ${runId} was recorded but its product-dates could not be marked due ` +
        `(${publicErrorMessage(cause)}); it is recorded as failed, try again`,
    );
  }
}
