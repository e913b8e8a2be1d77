import {
  AccuracyTally,
  judgeRead,
  popularityDecile,
  readHorizon,
  type JudgedSlot,
} from './accuracy-judge';

const slot = (time: string, remaining: number, adult = 20, child = 10): JudgedSlot => ({
  startTime: time,
  providerSlotId: `p_${time}`,
  remaining,
  paxAvailability: [
    {
      type: 'ADULT',
      remaining,
      price: { finalPrice: adult, originalPrice: 30, currencyCode: 'SGD' },
    },
    {
      type: 'CHILD',
      remaining,
      price: { finalPrice: child, originalPrice: 15, currencyCode: 'SGD' },
    },
  ],
});
const truth = [slot('08:00', 5), slot('09:30', 0), slot('11:00', 2)];

describe('judgeRead', () => {
  it.each<[string, JudgedSlot[], boolean, boolean]>([
    ['equal', [slot('08:00', 5), slot('09:30', 0), slot('11:00', 2)], true, false],
    ['one seat differs', [slot('08:00', 6), slot('09:30', 0), slot('11:00', 2)], false, false],
    [
      'a price differs',
      [slot('08:00', 5), slot('09:30', 0), slot('11:00', 2, 20, 9.5)],
      false,
      false,
    ],
    ['a slot missing', [slot('08:00', 5), slot('11:00', 2)], false, false],
    ['a slot extra', [...truth, slot('12:30', 4)], false, true],
    [
      'sold out shown bookable',
      [slot('08:00', 5), slot('09:30', 1), slot('11:00', 2)],
      false,
      true,
    ],
    [
      'a seat shown sold out (stale, not bookable)',
      [slot('08:00', 5), slot('09:30', 0), slot('11:00', 0)],
      false,
      false,
    ],
    ['nothing served', [], false, false],
  ])('%s', (_name, served, fresh, soldOutShownBookable) => {
    const v = judgeRead(served, truth);
    expect(v.fresh).toBe(fresh);
    expect(v.soldOutShownBookable).toBe(soldOutShownBookable);
    expect(v.difference === null).toBe(fresh);
  });

  it('an empty date served empty is fresh', () => {
    expect(judgeRead([], []).fresh).toBe(true);
  });

  it('compares pax by type, whatever their order, and names the difference', () => {
    const served = truth.map((s) => ({ ...s, paxAvailability: [...s.paxAvailability].reverse() }));
    expect(judgeRead(served, truth).fresh).toBe(true);
    const pricier = [slot('08:00', 5, 21), truth[1], truth[2]];
    expect(judgeRead(pricier, truth).difference).toContain('price 21/30');
  });
});

describe('read horizons and deciles', () => {
  it.each([
    [0, 'today'],
    [1, '+1..+6'],
    [6, '+1..+6'],
    [7, '+7..+29'],
    [29, '+7..+29'],
    [30, '+30..+59'],
    [59, '+30..+59'],
  ])('%i days ahead: %s', (days, horizon) => expect(readHorizon(days)).toBe(horizon));

  it.each([
    [1, 100, 0],
    [10, 100, 0],
    [11, 100, 1],
    [100, 100, 9],
    [1, 2, 0],
    [2, 2, 5],
    [45, 450, 0],
    [46, 450, 1],
  ])('product %i of %i: decile %i', (id, n, decile) =>
    expect(popularityDecile(id, n)).toBe(decile),
  );

  it('tallies fresh and sold-out-shown-bookable shares overall, per horizon and decile', () => {
    const t = new AccuracyTally();
    t.add({ fresh: true, soldOutShownBookable: false }, 0, 0);
    t.add({ fresh: false, soldOutShownBookable: true }, 0, 0);
    t.add({ fresh: true, soldOutShownBookable: false }, 12, 3);
    t.add({ fresh: true, soldOutShownBookable: false }, 40, 9);
    const s = t.summary();
    expect(s.reads).toBe(4);
    expect(s.fresh).toBe(0.75);
    expect(s.freshTopDecile).toBe(0.5);
    expect(s.soldOutShownBookable).toBe(0.25);
    expect(s.freshByHorizon).toEqual({ today: 0.5, '+1..+6': NaN, '+7..+29': 1, '+30..+59': 1 });
  });
});
