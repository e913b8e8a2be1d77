import { Writable } from 'node:stream';
import { AppLogger } from './app-logger';
import { requestContext } from './request-context';

function capture(
  level = 'info',
  secrets: string[] = [],
): { logger: AppLogger; lines: () => object[] } {
  let text = '';
  const logger = new AppLogger({
    level,
    format: 'json',
    secrets,
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    }),
  });
  const lines = (): object[] =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const { time, ...rest } = JSON.parse(l) as Record<string, unknown>;
        expect(typeof time).toBe('string');
        return rest;
      });
  return { logger, lines };
}

describe('AppLogger', () => {
  it.each<[string, (l: AppLogger) => void, object]>([
    [
      'an object message with msg and a context',
      (l) => l.log({ msg: 'request', status: 200, route: '/x' }, 'HttpAccess'),
      { level: 'info', context: 'HttpAccess', msg: 'request', status: 200, route: '/x' },
    ],
    [
      'an object message without msg',
      (l) => l.warn({ productId: 14 }, 'Sync'),
      { level: 'warn', context: 'Sync', productId: 14, msg: '' },
    ],
    [
      'an object message whose msg is not a string',
      (l) => l.log({ msg: 5, a: 1 }, 'C'),
      { level: 'info', context: 'C', a: 1, msg: '' },
    ],
    [
      'an object message carrying its own context',
      (l) => l.log({ msg: 'm', context: 'mine' }, 'C'),
      { level: 'info', context: 'mine', msg: 'm' },
    ],
    [
      'a string message',
      (l) => l.log('hello', 'Boot'),
      { level: 'info', context: 'Boot', msg: 'hello' },
    ],
    ['no context', (l) => l.log({ msg: 'm' }), { level: 'info', msg: 'm' }],
    [
      'an error message with its stack and context',
      (l) => l.error('failed', 'Error: x\n    at y', 'Filter'),
      { level: 'error', context: 'Filter', stack: 'Error: x\n    at y', msg: 'failed' },
    ],
    [
      'verbose as trace',
      (l) => l.verbose({ msg: 'v' }, 'C'),
      { level: 'trace', context: 'C', msg: 'v' },
    ],
  ])('writes %s as one JSON line', (_name, write, expected) => {
    const { logger, lines } = capture('trace');
    write(logger);
    expect(lines()).toEqual([expected]);
  });

  it('writes an Error with its message and stack', () => {
    const { logger, lines } = capture();
    logger.error(new TypeError('boom'), 'C');
    const [line] = lines() as Array<{ msg: string; err: { message: string; stack: string } }>;
    expect(line).toMatchObject({ level: 'error', context: 'C', msg: 'boom' });
    expect(line.err.message).toBe('boom');
    expect(line.err.stack).toContain('TypeError: boom');
  });

  it('adds the request id to lines written inside a request context, and only there', () => {
    const { logger, lines } = capture();
    requestContext.run({ requestId: 'req-1' }, () => logger.log({ msg: 'inside' }, 'C'));
    logger.log({ msg: 'outside' }, 'C');
    expect(lines()).toEqual([
      { level: 'info', context: 'C', requestId: 'req-1', msg: 'inside' },
      { level: 'info', context: 'C', msg: 'outside' },
    ]);
  });

  it('drops lines below the level', () => {
    const { logger, lines } = capture('warn');
    logger.log({ msg: 'info line' }, 'C');
    logger.debug({ msg: 'debug line' }, 'C');
    logger.warn({ msg: 'warn line' }, 'C');
    expect(lines()).toEqual([{ level: 'warn', context: 'C', msg: 'warn line' }]);
  });

  it('never writes a configured secret or a secret-bearing field', () => {
    const { logger, lines } = capture('info', ['s3cret-key', 'admin-tok']);
    logger.log(
      { msg: 'calling with s3cret-key', apiKey: 'anything', nested: { adminToken: 'x' } },
      'C',
    );
    logger.warn('token admin-tok refused', 'C');
    expect(lines()).toEqual([
      {
        level: 'info',
        context: 'C',
        msg: 'calling with [REDACTED]',
        apiKey: '[REDACTED]',
        nested: { adminToken: '[REDACTED]' },
      },
      { level: 'warn', context: 'C', msg: 'token [REDACTED] refused' },
    ]);
  });

  it('cuts a secret-bearing field from a flat line (the access line path) as from any other', () => {
    const { logger, lines } = capture('info', ['s3cret-key']);
    logger.log({ msg: 'm', apiKey: 'k', authorization: 'Bearer t', requestId: 's3cret-key' }, 'C');
    logger.log({ msg: 'm', partner: { apiKey: 'k' }, deep: { authorization: 'a' } }, 'C');
    expect(lines()).toEqual([
      {
        level: 'info',
        context: 'C',
        msg: 'm',
        apiKey: '[REDACTED]',
        authorization: '[REDACTED]',
        requestId: '[REDACTED]',
      },
      {
        level: 'info',
        context: 'C',
        msg: 'm',
        partner: { apiKey: '[REDACTED]' },
        deep: { authorization: '[REDACTED]' },
      },
    ]);
  });
});
