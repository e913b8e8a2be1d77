import { DEFAULT_READ_DEMAND, readWeight, WeightedPicker } from './read-demand';

describe('read demand', () => {
  it.each([
    [1, 0, 1],
    [2, 0, 0.5],
    [1, 7, 0.5],
    [4, 14, 0.0625],
    [1, -1, 0],
  ])('product %i, %i days ahead: weight %f', (product, days, weight) => {
    expect(readWeight(DEFAULT_READ_DEMAND, product, days)).toBeCloseTo(weight, 12);
  });

  it.each([
    [0, 0],
    [0.099, 0],
    [0.1, 1],
    [0.39, 1],
    [0.4, 3],
    [0.999, 3],
  ])('picks by cumulative weight (u = %f: index %i), skipping zero weights', (u, index) => {
    expect(new WeightedPicker([1, 3, 0, 6]).pick(u)).toBe(index);
  });
});
