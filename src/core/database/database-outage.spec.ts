import { Logger } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import { DatabaseUnavailableError } from '../../common/database-unavailable';
import { DatabaseOutage, OUTAGE_PROBE_MS, OUTAGE_SUMMARY_MS } from './database-outage';

const unreachable = new Prisma.PrismaClientKnownRequestError("Can't reach database server", {
  code: 'P1001',
  clientVersion: '7.10.0',
});

describe('DatabaseOutage', () => {
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('absorbs only errors that mean the database is unavailable', () => {
    const outage = new DatabaseOutage();
    expect(outage.report('x', new Error('boom'))).toBe(false);
    expect(outage.isDown()).toBe(false);
    expect(outage.report('x', unreachable)).toBe(true);
    expect(outage.isDown()).toBe(true);
    outage.onModuleDestroy();
  });

  it('logs one line when it starts and one summary per period however many failures come', () => {
    const outage = new DatabaseOutage();
    outage.useProbe(async () => false);
    for (let i = 0; i < 500; i++) outage.report(i % 2 ? 'sync control' : 'read api', unreachable);
    expect(warn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(OUTAGE_SUMMARY_MS);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1][0]).toMatchObject({
      msg: 'database still unavailable',
      failures: { 'sync control': 250, 'read api': 250 },
    });
    outage.onModuleDestroy();
  });

  it('refuses work while down (DatabaseUnavailableError), and ends with one line and the recovery listeners once the probe answers', async () => {
    const outage = new DatabaseOutage();
    let up = false;
    outage.useProbe(async () => up);
    const recovered = jest.fn();
    outage.onRecovered(recovered);
    expect(() => outage.assertAvailable()).not.toThrow();
    outage.report('sync store', unreachable);
    expect(() => outage.assertAvailable()).toThrow(DatabaseUnavailableError);
    await jest.advanceTimersByTimeAsync(OUTAGE_PROBE_MS * 3);
    expect(outage.isDown()).toBe(true);
    expect(recovered).not.toHaveBeenCalled();
    up = true;
    await jest.advanceTimersByTimeAsync(OUTAGE_PROBE_MS);
    expect(outage.isDown()).toBe(false);
    expect(() => outage.assertAvailable()).not.toThrow();
    expect(recovered).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith(expect.objectContaining({ msg: 'database available again' }));
    // A new outage starts a new first line.
    outage.report('sync store', unreachable);
    expect(warn).toHaveBeenCalledTimes(2);
    outage.onModuleDestroy();
  });
});
