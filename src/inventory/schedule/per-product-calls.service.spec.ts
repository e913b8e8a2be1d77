import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import type { AppConfig } from '../../config/app-config';
import * as plan from './capacity-plan';
import { PerProductCallsService } from './per-product-calls.service';

const config = (timeZone: string) =>
  ({ sync: { cron: { ...DEFAULT_CRONS }, timeZone } }) as unknown as AppConfig;

describe('PerProductCallsService', () => {
  afterEach(() => jest.restoreAllMocks());

  it('walks the crons once per day in the zone, from that date, and again after midnight there', () => {
    const walk = jest.spyOn(plan, 'callsPerProduct');
    const calls = new PerProductCallsService(config('Asia/Kolkata'));
    // 23:59 and 23:59:59 in Kolkata (UTC+5:30) on 2026-12-01, then 00:01 on 2026-12-02.
    const first = calls.at(new Date('2026-12-01T18:29:00Z'));
    expect(calls.at(new Date('2026-12-01T18:29:59Z'))).toBe(first);
    expect(walk).toHaveBeenCalledTimes(1);
    expect(walk).toHaveBeenLastCalledWith(
      DEFAULT_CRONS,
      'Asia/Kolkata',
      new Date('2026-12-01T00:00:00Z'),
    );
    const next = calls.at(new Date('2026-12-01T18:31:00Z'));
    expect(walk).toHaveBeenCalledTimes(2);
    expect(walk).toHaveBeenLastCalledWith(
      DEFAULT_CRONS,
      'Asia/Kolkata',
      new Date('2026-12-02T00:00:00Z'),
    );
    expect(next).not.toBe(first);
    expect(next.total).toBeCloseTo(155 + 30 / 7, 2);
  });
});
