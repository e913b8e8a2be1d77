import { requestIdOf, routeLabel } from './http-observer';

describe('routeLabel', () => {
  it.each([
    [
      'a matched template',
      { routeOptions: { url: '/api/v1/experience/:productId' } },
      '/api/v1/experience/:productId',
    ],
    ['the root route', { routeOptions: { url: '/' } }, '/'],
    ["no matched route (Fastify's not-found handler)", { routeOptions: {} }, 'unmatched'],
    ['no route options at all', {}, 'unmatched'],
  ])('%s → %s', (_name, req, expected) => {
    expect(routeLabel(req)).toBe(expected);
  });
});

describe('requestIdOf', () => {
  it('keeps a sane incoming X-Request-Id', () => {
    expect(requestIdOf({ headers: { 'x-request-id': 'abc-123' } } as never)).toBe('abc-123');
  });

  it('replaces an unsafe one with a new UUID', () => {
    const id = requestIdOf({ headers: { 'x-request-id': 'a b\n' } } as never);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
