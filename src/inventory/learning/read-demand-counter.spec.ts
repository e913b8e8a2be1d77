import { ReadDemandCounter } from './read-demand-counter';

describe('ReadDemandCounter', () => {
  it('counts reads per product-date and hands them over sorted, starting empty again', () => {
    const c = new ReadDemandCounter(100);
    c.count(15, '2026-12-09');
    c.count(14, '2026-12-10');
    c.count(15, '2026-12-08');
    c.count(15, '2026-12-09');
    expect(c.size).toBe(3);
    expect(c.take()).toEqual([
      { productId: 14, date: '2026-12-10', reads: 1 },
      { productId: 15, date: '2026-12-08', reads: 1 },
      { productId: 15, date: '2026-12-09', reads: 2 },
    ]);
    expect(c.size).toBe(0);
    expect(c.take()).toEqual([]);
  });

  it('adds counts a flush could not write to what was counted since', () => {
    const c = new ReadDemandCounter(100);
    c.count(14, '2026-12-10');
    const failed = c.take();
    c.count(14, '2026-12-10');
    c.count(14, '2026-12-11');
    c.restore(failed);
    expect(c.take()).toEqual([
      { productId: 14, date: '2026-12-10', reads: 2 },
      { productId: 14, date: '2026-12-11', reads: 1 },
    ]);
  });

  it('keeps at most maxEntries product-dates: reads of new ones are dropped and counted', () => {
    const c = new ReadDemandCounter(2);
    c.count(14, '2026-12-10');
    c.count(14, '2026-12-11');
    c.count(14, '2026-12-12');
    c.count(15, '2026-12-10');
    // A product-date already counted still counts.
    c.count(14, '2026-12-10');
    expect(c.size).toBe(2);
    expect(c.dropped).toBe(2);
    c.restore([{ productId: 16, date: '2026-12-10', reads: 5 }]);
    expect(c.dropped).toBe(7);
    expect(c.take()).toEqual([
      { productId: 14, date: '2026-12-10', reads: 2 },
      { productId: 14, date: '2026-12-11', reads: 1 },
    ]);
  });
});
