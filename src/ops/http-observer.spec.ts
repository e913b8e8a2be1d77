import { routeLabel } from './http-observer';

describe('routeLabel', () => {
  it.each([
    [
      'a matched template',
      { route: { path: '/api/v1/experience/:productId' }, baseUrl: '' },
      '/api/v1/experience/:productId',
    ],
    [
      'a router mounted under a base path',
      { route: { path: '/:id' }, baseUrl: '/things' },
      '/things/:id',
    ],
    ['no matched route', { route: undefined, baseUrl: '' }, 'unmatched'],
    ['a route without a string path', { route: { path: /x/ }, baseUrl: '' }, 'unmatched'],
  ])('%s → %s', (_name, req, expected) => {
    expect(routeLabel(req as never)).toBe(expected);
  });
});
