/**
 * Base of the errors features throw on purpose. Each carries the HTTP status it maps to, so one
 * filter (AllExceptionsFilter) turns them into responses and controllers stay free of try/catch.
 */
export abstract class DomainError extends Error {
  abstract readonly httpStatus: number;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A partner call that was never made (paused, not the sync leader, shutting down): nothing was
 * spent and nothing is recorded, so the product-date simply stays due. Classified by this class,
 * never by a name or an `outcome` string.
 */
export abstract class NotAttemptedError extends DomainError {}
