import { acceptRequestId, currentRequestId, requestContext } from './request-context';

describe('acceptRequestId', () => {
  const generate = (): string => 'generated';
  it.each([
    ['a UUID', '0b6f1c1e-8c4e-4d2b-9a53-3f1f7c3e2a10', '0b6f1c1e-8c4e-4d2b-9a53-3f1f7c3e2a10'],
    ['dots, colons and underscores', 'lb:web_1.abc-9', 'lb:web_1.abc-9'],
    ['exactly 128 characters', 'x'.repeat(128), 'x'.repeat(128)],
    ['129 characters', 'x'.repeat(129), 'generated'],
    ['an empty value', '', 'generated'],
    ['a space', 'abc def', 'generated'],
    ['a newline (log injection)', 'abc\n{"level":"fatal"}', 'generated'],
    ['a quote', 'abc"', 'generated'],
    ['no header', undefined, 'generated'],
    ['a repeated header', ['a', 'b'], 'generated'],
  ])('with %s returns %j', (_name, incoming, expected) => {
    expect(acceptRequestId(incoming, generate)).toBe(expected);
  });

  it('generates a UUID by default', () => {
    expect(acceptRequestId(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('requestContext', () => {
  it('exposes the request id inside run() and across awaits, and nothing outside', async () => {
    expect(currentRequestId()).toBeUndefined();
    await requestContext.run({ requestId: 'r-1' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(currentRequestId()).toBe('r-1');
    });
    expect(currentRequestId()).toBeUndefined();
  });
});
