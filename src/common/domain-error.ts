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
