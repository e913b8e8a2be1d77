import { parseClusterMessage } from './cluster-notifications.service';

describe('parseClusterMessage', () => {
  it('keeps the deferred mark of an invalidation that did not reach Redis', () => {
    const payload = JSON.stringify({
      type: 'invalidate-product-date',
      productId: 14,
      date: '2026-12-07',
      deferred: true,
      from: 'node-a',
    });
    expect(parseClusterMessage(payload)).toEqual({
      type: 'invalidate-product-date',
      productId: 14,
      date: '2026-12-07',
      deferred: true,
      from: 'node-a',
    });
    expect(
      parseClusterMessage(
        JSON.stringify({ type: 'invalidate-product', productId: 14, deferred: true, from: 'a' }),
      ),
    ).toEqual({ type: 'invalidate-product', productId: 14, deferred: true, from: 'a' });
  });

  it('reads anything but deferred: true as not deferred (a sender without Redis sends none)', () => {
    for (const deferred of [undefined, false, 'true', 1]) {
      const m = parseClusterMessage(
        JSON.stringify({ type: 'invalidate-product', productId: 15, deferred, from: 'b' }),
      );
      expect(m).toEqual({ type: 'invalidate-product', productId: 15, from: 'b' });
    }
  });

  it('ignores malformed payloads', () => {
    expect(parseClusterMessage('not json')).toBeNull();
    expect(
      parseClusterMessage(JSON.stringify({ type: 'invalidate-product', from: 'x' })),
    ).toBeNull();
  });
});
