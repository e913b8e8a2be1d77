import { Prisma } from '../generated/prisma/client';
import { DomainError } from './domain-error';

/** What a client is told, on every endpoint: no host, port, driver or query text. */
export const DATABASE_UNAVAILABLE_MESSAGE = 'database unavailable';

/** Seconds a client is asked to wait before retrying (Retry-After) while the database is down. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The database cannot answer (down, unreachable, restarting): 503 with Retry-After, never 500. */
export class DatabaseUnavailableError extends DomainError {
  readonly httpStatus = 503;
  readonly retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS;

  constructor() {
    super(DATABASE_UNAVAILABLE_MESSAGE);
  }
}

/**
 * Prisma's codes for "cannot reach / lost the server / pool exhausted / too many connections",
 * and for a server that refuses this service's connection (credentials changed, database dropped
 * or renamed: P1000, P1003): no query can be answered until an operator acts, as when it is down.
 */
const UNAVAILABLE_PRISMA_CODES = new Set([
  'P1000',
  'P1001',
  'P1002',
  'P1003',
  'P1008',
  'P1017',
  'P2024',
  'P2037',
]);
/** Driver-adapter error kinds that mean the connection, not the query, failed. */
const UNAVAILABLE_ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'DatabaseDoesNotExist',
  'AuthenticationFailed',
  'DatabaseAccessDenied',
]);
/** Node socket errors (pg raised them below Prisma, or outside it). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE']);
/**
 * pg raises these as plain Errors (no class, no code) when a connection dies under a query or a
 * pool cannot get one; matching their fixed texts is the only way to tell them apart.
 */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
];

/**
 * SQLSTATE class 08 (connection exception), 57P01..57P03 (shutdown, crash, starting up), 53300
 * (too many connections), 3D000 (the database does not exist), 28000/28P01 (authorisation).
 */
function isUnavailableSqlState(code: unknown): boolean {
  return (
    typeof code === 'string' &&
    (code.startsWith('08') || /^57P0[123]$/.test(code) || /^(53300|3D000|28000|28P01)$/.test(code))
  );
}

function adapterCause(meta: unknown): { kind?: unknown; originalCode?: unknown } | undefined {
  const adapter = (meta as { driverAdapterError?: { cause?: unknown } } | undefined)
    ?.driverAdapterError;
  return adapter?.cause as { kind?: unknown; originalCode?: unknown } | undefined;
}

/**
 * True when `err` says the database could not answer at all (as opposed to refusing a query):
 * classified by Prisma's error classes and codes, the driver adapter's error kind, the SQLSTATE
 * and the socket error code.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (UNAVAILABLE_PRISMA_CODES.has(err.code)) return true;
    const cause = adapterCause(err.meta);
    return (
      (typeof cause?.kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(cause.kind)) ||
      isUnavailableSqlState(cause?.originalCode)
    );
  }
  if (!(err instanceof Error)) return false;
  // A wrapper (e.g. PrismaService's DatabaseQueryError around a pg error) is what it wraps.
  if (err.cause instanceof Error && err.cause !== err && isDatabaseUnavailable(err.cause)) {
    return true;
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || isUnavailableSqlState(code))) {
    return true;
  }
  return PG_CONNECTION_MESSAGES.some((m) => err.message.startsWith(m));
}

/** True for any error raised by Prisma (its messages quote queries, hosts and ports). */
export function isPrismaError(err: unknown): boolean {
  return (
    err instanceof Prisma.PrismaClientKnownRequestError ||
    err instanceof Prisma.PrismaClientUnknownRequestError ||
    err instanceof Prisma.PrismaClientInitializationError ||
    err instanceof Prisma.PrismaClientValidationError ||
    err instanceof Prisma.PrismaClientRustPanicError
  );
}

/**
 * The text of an error that may be shown or stored where unauthenticated endpoints read it
 * (run and product-date errors in status and freshness): database errors are reduced to what
 * happened, their details stay in the logs.
 */
export function publicErrorMessage(err: unknown): string {
  if (isDatabaseUnavailable(err)) return DATABASE_UNAVAILABLE_MESSAGE;
  if (err instanceof Prisma.PrismaClientKnownRequestError) return `database error ${err.code}`;
  if (isPrismaError(err)) return 'database error';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Where code that caught a database error reports it instead of logging it: while an outage
 * lasts, one line when it starts, a summary now and then, one when it ends. Owned here so the
 * exception filter (common) can report too; implemented by core's DatabaseOutage.
 */
export abstract class DatabaseOutageReporter {
  /**
   * Counts `err` against the outage when it means the database is unavailable and returns true
   * (the caller logs nothing); returns false for any other error (the caller logs it as before).
   */
  abstract report(source: string, err: unknown): boolean;
}
