import { Clock } from '../../common/clock';
import type { AppConfig } from '../../config/app-config';
import { buildSyncPolicy } from '../policy/sync-policy';
import { AccuracyEstimateService, CACHE_MS } from './accuracy-estimate.service';
import type { ChangeObservationsRepository } from './change-observations.repository';

const CRONS = {
  quarterHourly: '*/15 * * * *',
  fourHourly: '0 */4 * * *',
  daily: '0 3 * * *',
  extended: '0 4 * * 0',
};

class TestClock extends Clock {
  at = Date.parse('2026-12-07T12:00:00Z');
  override now(): Date {
    return new Date(this.at);
  }
}

/** An estimator over a fake repository that counts its reads and answers one changed bucket. */
function setup(readMs = 0) {
  const clock = new TestClock();
  let reads = 0;
  let fail = false;
  const repository = {
    bucketsSince: async (_ids: number[], _tz: string, horizons: Array<{ name: string }>) => {
      reads++;
      clock.at += readMs;
      if (fail) throw new Error('boom');
      return horizons.map(({ name }) => ({
        name,
        buckets: [{ changed: 1, unchanged: 1, changedSeconds: 600, unchangedSeconds: 600 }],
      }));
    },
    freshSums: async (_ids: number[], _today: string, horizons: Array<{ name: string }>) =>
      horizons.map(({ name }) => ({ name, synced: 1, freshSum: 1 })),
    deleteBefore: async () => 0,
  } as unknown as ChangeObservationsRepository;
  const config = { sync: { productIds: [14], timeZone: 'UTC' } } as unknown as AppConfig;
  const policy = buildSyncPolicy(CRONS, 'UTC', new Date(clock.at));
  const service = new AccuracyEstimateService(repository, config, policy, clock);
  return {
    service,
    clock,
    reads: () => reads,
    failNext: () => {
      fail = true;
    },
  };
}

describe('AccuracyEstimateService.current', () => {
  it('waits for the first estimate, then answers the cached one without reading', async () => {
    const { service, clock, reads } = setup();
    const first = await service.current();
    expect(first?.horizons[0].changeRatePerHour).toBeCloseTo((Math.log(2) / 600) * 3600, 9);
    clock.at += CACHE_MS - 1;
    expect(await service.current()).toBe(first);
    expect(reads()).toBe(1);
  });

  it('past the cache answers the last estimate at once and refreshes it in the background', async () => {
    const { service, clock, reads } = setup();
    const first = await service.current();
    clock.at += CACHE_MS;
    expect(await service.current()).toBe(first);
    expect(reads()).toBe(2);
    const next = await service.refresh();
    expect(next).not.toBe(first);
    expect(await service.current()).toBe(next);
  });

  it('refreshes a slow estimate less often: at least 100 × its time, at most 60 s', async () => {
    // 400 ms to compute (5,000 products): kept 40 s instead of CACHE_MS.
    const { service, clock, reads } = setup(400);
    const first = await service.current();
    clock.at += 40_000 - 400 - 1;
    expect(await service.current()).toBe(first);
    expect(reads()).toBe(1);
    clock.at += 1;
    await service.current();
    expect(reads()).toBe(2);

    const slow = setup(10_000);
    await slow.service.current();
    slow.clock.at += 60_000 - 10_000;
    await slow.service.current();
    expect(slow.reads()).toBe(2);
  });

  it('answers the last estimate when a refresh fails, and null when there is none', async () => {
    const empty = setup();
    empty.failNext();
    expect(await empty.service.current()).toBeNull();

    const { service, clock, failNext } = setup();
    const first = await service.current();
    failNext();
    clock.at += CACHE_MS;
    expect(await service.refresh()).toBe(first);
  });

  it('keeps one history sample per 5 minutes', async () => {
    const { service, clock } = setup();
    for (let i = 0; i < 12; i++) {
      await service.refresh();
      clock.at += 60_000;
    }
    const e = await service.withHistory();
    expect(e?.history.map((h) => h.at)).toEqual([
      '2026-12-07T12:00:00.000Z',
      '2026-12-07T12:05:00.000Z',
      '2026-12-07T12:10:00.000Z',
    ]);
  });
});
