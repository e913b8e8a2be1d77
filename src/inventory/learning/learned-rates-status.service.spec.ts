import { DatabaseUnavailableError } from '../../common/database-unavailable';
import { Clock } from '../../common/clock';
import { loadConfig } from '../../config/app-config';
import { DEFAULT_CRONS } from '../../../test/support/default-crons';
import { until } from '../../../test/support/until';
import type { ChangeObservationsRepository } from '../accuracy/change-observations.repository';
import { buildSyncPolicy } from '../policy/sync-policy';
import type { HorizonLearnedSums, LearnedRatesRepository } from './learned-rates.repository';
import { LearnedRatesStatusService, learnedRatesStatus } from './learned-rates-status.service';
import type { ReadDemandService } from './read-demand.service';

const policy = buildSyncPolicy(DEFAULT_CRONS, 'UTC', new Date('2026-12-01T00:00:00Z'));
const counter = { pending: 2, flushedReads: 10, droppedReads: 0, lastFlushAt: null };

const sums = (readRate: number): HorizonLearnedSums[] =>
  policy.horizons.map((h, i) => ({
    name: h.name,
    productDates: i === 3 ? 0 : 10,
    changeRateSum: i === 3 ? 0 : 10 / 3600,
    readRate: i === 0 ? readRate : 0,
    freshReadRate: i === 0 ? readRate / 4 : 0,
  }));

describe('learnedRatesStatus', () => {
  it('gives rates per hour and read-weighted fresh shares, null where nothing is read', () => {
    const s = learnedRatesStatus(sums(2 / 3600), new Date('2026-12-07T00:00:00Z'), counter);
    expect(s.horizons[0]).toEqual({
      name: 'today',
      productDates: 10,
      changeRatePerHour: 1,
      readsPerHour: 2,
      syncsLastHour: 0,
      expectedFreshReads: 0.25,
    });
    expect(s.horizons[1].expectedFreshReads).toBeNull();
    expect(s.horizons[3].changeRatePerHour).toBeNull();
    expect(s.readsPerHour).toBeCloseTo(2, 12);
    expect(s.expectedFreshReads).toBeCloseTo(0.25, 12);
    expect(learnedRatesStatus(sums(0), new Date(), counter).expectedFreshReads).toBeNull();
  });
});

describe('LearnedRatesStatusService', () => {
  let computed: number;
  let fail: Error | null;
  let release: (() => void) | null;
  let service: LearnedRatesStatusService;
  const reports: string[] = [];

  beforeEach(() => {
    computed = 0;
    fail = null;
    release = null;
    const repository = {
      horizonSums: async () => {
        computed++;
        if (release === null) await new Promise<void>((r) => (release = r));
        if (fail) throw fail;
        return sums(computed / 3600);
      },
    } as unknown as LearnedRatesRepository;
    const demand = { stats: () => counter } as unknown as ReadDemandService;
    const outage = {
      report: (source: string, err: unknown) => {
        if (!(err instanceof DatabaseUnavailableError)) return false;
        reports.push(source);
        return true;
      },
    };
    const observations = {
      bucketsSince: async () =>
        policy.horizons.map((h, i) => ({
          name: h.name,
          buckets:
            i === 0 ? [{ changed: 2, unchanged: 3, changedSeconds: 1, unchangedSeconds: 1 }] : [],
        })),
    } as unknown as ChangeObservationsRepository;
    service = new LearnedRatesStatusService(
      repository,
      observations,
      demand,
      loadConfig({}, 'demo'),
      policy,
      new Clock(),
      outage,
    );
  });

  it('shares one aggregate between callers, and answers it again without asking the database', async () => {
    const a = service.current();
    const b = service.current();
    release!();
    const [x, y] = await Promise.all([a, b]);
    expect(computed).toBe(1);
    expect(x).toEqual(y);
    expect(x!.readsPerHour).toBeCloseTo(1, 12);
    // The calls spent in the last hour: today's observations summed, none elsewhere.
    expect(x!.horizons.map((h) => h.syncsLastHour)).toEqual([5, 0, 0, 0]);
    await service.current();
    expect(computed).toBe(1);
  });

  it('answers the last reading while the database cannot answer, and tells the outage', async () => {
    release = () => undefined;
    const first = await service.current();
    (service as unknown as { reading: { invalidate(): void } }).reading.invalidate();
    fail = new DatabaseUnavailableError();
    expect(await service.current()).toEqual(first);
    await until('the outage told', () => reports.includes('learned rates status'));
    expect(computed).toBe(2);
  });
});
