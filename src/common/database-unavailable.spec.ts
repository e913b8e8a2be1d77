import { Prisma } from '../generated/prisma/client';
import {
  DatabaseUnavailableError,
  isDatabaseUnavailable,
  publicErrorMessage,
} from './database-unavailable';

const clientVersion = '7.10.0';

function known(code: string, cause?: Record<string, unknown>): Error {
  return new Prisma.PrismaClientKnownRequestError(`failed at 127.0.0.1:5499 (${code})`, {
    code,
    clientVersion,
    meta: cause ? { driverAdapterError: { name: 'DriverAdapterError', cause } } : undefined,
  });
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5499`), {
    code,
    errno: -111,
    syscall: 'connect',
  });
}

describe('isDatabaseUnavailable', () => {
  it.each<[string, unknown, boolean]>([
    ['P1001 cannot reach the server', known('P1001'), true],
    ['P1017 server closed the connection', known('P1017'), true],
    ['P2024 pool timeout', known('P2024'), true],
    [
      'a raw query whose adapter could not reach the server',
      known('P2010', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5499 }),
      true,
    ],
    [
      'a raw query on a connection the server terminated (57P01)',
      known('P2010', { kind: 'postgres', originalCode: '57P01' }),
      true,
    ],
    [
      'the server starting up (57P03)',
      known('P2010', { kind: 'postgres', originalCode: '57P03' }),
      true,
    ],
    [
      'a connection exception (08006)',
      known('P2010', { kind: 'postgres', originalCode: '08006' }),
      true,
    ],
    [
      'initialisation failed',
      new Prisma.PrismaClientInitializationError('no db', clientVersion),
      true,
    ],
    ['P1003 the database does not exist', known('P1003'), true],
    [
      'a raw query on a database dropped under the service (3D000)',
      known('P2010', { kind: 'DatabaseDoesNotExist', db: 'inventory' }),
      true,
    ],
    [
      'credentials refused (28P01)',
      known('P2010', { kind: 'postgres', originalCode: '28P01' }),
      true,
    ],
    [
      'pg: the database does not exist (3D000, below Prisma)',
      Object.assign(new Error('database "inventory" does not exist'), { code: '3D000' }),
      true,
    ],
    ['a refused socket', socketError('ECONNREFUSED'), true],
    ['pg: connection terminated', new Error('Connection terminated unexpectedly'), true],
    ['the typed error itself', new DatabaseUnavailableError(), true],
    ['a unique violation (P2002)', known('P2002'), false],
    ['a foreign key violation', known('P2003'), false],
    ['a syntax error (42601)', known('P2010', { kind: 'postgres', originalCode: '42601' }), false],
    ['a validation error', new Prisma.PrismaClientValidationError('bad', { clientVersion }), false],
    [
      'a wrapper whose cause is a refused socket',
      new Error('database query slots failed', { cause: socketError('ECONNREFUSED') }),
      true,
    ],
    [
      'a wrapper whose cause is a syntax error',
      new Error('database query slots failed', { cause: new Error('syntax error') }),
      false,
    ],
    ['any other error', new Error('boom'), false],
    ['a string', 'ECONNREFUSED', false],
    ['undefined', undefined, false],
  ])('%s → %s', (_what, err, expected) => {
    expect(isDatabaseUnavailable(err)).toBe(expected);
  });
});

describe('publicErrorMessage', () => {
  it.each<[string, unknown, string]>([
    ['an unavailable database', known('P1001'), 'database unavailable'],
    ['another Prisma error keeps only its code', known('P2003'), 'database error P2003'],
    [
      'a validation error',
      new Prisma.PrismaClientValidationError('at x', { clientVersion }),
      'database error',
    ],
    [
      'a partner error keeps its message',
      new Error('partner answered 503'),
      'partner answered 503',
    ],
  ])('%s → %s', (_what, err, expected) => {
    expect(publicErrorMessage(err)).toBe(expected);
  });
});
