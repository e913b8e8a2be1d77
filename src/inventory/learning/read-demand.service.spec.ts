import { Logger } from '@nestjs/common';
import { DatabaseUnavailableError } from '../../common/database-unavailable';
import { loadConfig } from '../../config/app-config';
import type { DatabaseOutage } from '../../core/database/database-outage';
import type { ReadCount } from './read-demand-counter';
import type { ReadDemandRepository } from './read-demand.repository';
import { ReadDemandService } from './read-demand.service';

const TODAY = '2026-12-07';

/** A repository that records what it is given, or fails while `failWith` is set. */
class FakeRepository {
  written: ReadCount[][] = [];
  failWith: Error | null = null;
  halfLives: number[] = [];
  add(counts: readonly ReadCount[], halfLifeSeconds: number): Promise<number> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.written.push([...counts]);
    this.halfLives.push(halfLifeSeconds);
    return Promise.resolve(counts.length);
  }
}

class FakeOutage {
  down = false;
  reports: string[] = [];
  isDown(): boolean {
    return this.down;
  }
  report(source: string, err: unknown): boolean {
    if (!(err instanceof DatabaseUnavailableError)) return false;
    this.reports.push(source);
    return true;
  }
}

describe('ReadDemandService', () => {
  let repository: FakeRepository;
  let outage: FakeOutage;
  let service: ReadDemandService;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    repository = new FakeRepository();
    outage = new FakeOutage();
    const config = loadConfig(
      { SYNC_PRODUCT_IDS: '14,15', READ_DEMAND_HALF_LIFE_MS: '3600000' },
      'demo',
    );
    service = new ReadDemandService(
      repository as unknown as ReadDemandRepository,
      config,
      { lastDay: 59 },
      outage as unknown as DatabaseOutage,
    );
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('counts reads of the dates the sync keeps and writes them in one batch, with the half-life', async () => {
    service.count(14, '2026-12-08', TODAY);
    service.count(14, '2026-12-08', TODAY);
    service.count(15, TODAY, TODAY);
    service.count(15, '2027-02-04', TODAY); // today + 59
    service.count(15, '2027-02-05', TODAY); // today + 60: not kept, not counted
    service.count(15, '2026-12-06', TODAY); // yesterday
    expect(service.stats().pending).toBe(3);
    await service.flush();
    expect(repository.written).toEqual([
      [
        { productId: 14, date: '2026-12-08', reads: 2 },
        { productId: 15, date: '2026-12-07', reads: 1 },
        { productId: 15, date: '2027-02-04', reads: 1 },
      ],
    ]);
    expect(repository.halfLives).toEqual([3600]);
    expect(service.stats()).toMatchObject({ pending: 0, flushedReads: 4 });
    await service.flush();
    expect(repository.written).toHaveLength(1);
  });

  it('keeps counting while the database is unavailable, reports to the outage, and writes it all later', async () => {
    service.count(14, '2026-12-08', TODAY);
    repository.failWith = new DatabaseUnavailableError();
    await service.flush();
    service.count(14, '2026-12-08', TODAY);
    await service.flush();
    expect(outage.reports).toEqual(['read demand flush', 'read demand flush']);
    expect(warn).not.toHaveBeenCalled();
    // Known down: no statement is tried at all until the outage ends.
    outage.down = true;
    repository.failWith = null;
    service.count(14, '2026-12-09', TODAY);
    await service.flush();
    expect(repository.written).toEqual([]);
    outage.down = false;
    await service.flush();
    expect(repository.written).toEqual([
      [
        { productId: 14, date: '2026-12-08', reads: 2 },
        { productId: 14, date: '2026-12-09', reads: 1 },
      ],
    ]);
  });

  it('gives up counts another error refuses (the same statement would fail again), with one warning', async () => {
    service.count(14, '2026-12-08', TODAY);
    repository.failWith = new Error('permission denied for table read_demand');
    await service.flush();
    expect(warn).toHaveBeenCalledTimes(1);
    repository.failWith = null;
    await service.flush();
    expect(repository.written).toEqual([]);
  });

  it('flushes what is left when the module is destroyed (before the database closes)', async () => {
    service.count(15, '2026-12-10', TODAY);
    await service.onModuleDestroy();
    expect(repository.written).toEqual([[{ productId: 15, date: '2026-12-10', reads: 1 }]]);
  });
});
