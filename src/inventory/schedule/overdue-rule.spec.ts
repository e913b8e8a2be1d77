import { overdueRetryDelayMs } from './overdue-rule.service';

describe('overdueRetryDelayMs', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [6, 32_000],
    [7, 60_000],
    [30, 60_000],
  ])('after %i failures in a row waits %i ms', (failures, ms) => {
    expect(overdueRetryDelayMs(failures)).toBe(ms);
  });
});
