import { DEFAULT_LIMIT, parseChangeFeedQuery } from './change-feed-query';

describe('parseChangeFeedQuery', () => {
  it('takes the defaults when nothing is given', () => {
    expect(parseChangeFeedQuery({})).toEqual({
      query: { after: null, limit: DEFAULT_LIMIT, productId: undefined },
    });
  });

  it('parses a cursor, a limit and a product', () => {
    expect(
      parseChangeFeedQuery({ after: '9007199254740993', limit: '1000', productId: '14' }),
    ).toEqual({
      query: { after: 9007199254740993n, limit: 1000, productId: 14 },
    });
  });

  it.each([
    [{ after: '-1' }, /after must be a cursor/],
    [{ after: 'abc' }, /after must be a cursor/],
    [{ after: '99999999999999999999' }, /after must be a cursor/],
    [{ after: ['1', '2'] }, /after must be a cursor/],
    [{ limit: '0' }, /limit must be an integer between 1 and 1000/],
    [{ limit: '1001' }, /limit must be an integer between 1 and 1000/],
    [{ limit: '1.5' }, /limit must be/],
    [{ productId: '0' }, /productId must be a positive integer/],
    [{ productId: 'x' }, /productId must be a positive integer/],
  ])('refuses %j', (query, message) => {
    const r = parseChangeFeedQuery(query);
    expect('problem' in r && r.problem).toMatch(message);
  });
});
