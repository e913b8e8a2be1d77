import { etagOf, ifNoneMatchHits } from './http-cache';

describe('HTTP validators', () => {
  it('gives equal bodies equal strong ETags and different bodies different ones', () => {
    expect(etagOf('[]')).toBe(etagOf('[]'));
    expect(etagOf('[]')).not.toBe(etagOf('[1]'));
    expect(etagOf('[]')).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
  });

  it.each([
    [undefined, false],
    ['', false],
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc"', true],
    ['*', true],
    ['"abcd"', false],
    ['abc', false],
  ])('If-None-Match %j matches "abc": %s', (header, expected) => {
    expect(ifNoneMatchHits(header, '"abc"')).toBe(expected);
  });
});
