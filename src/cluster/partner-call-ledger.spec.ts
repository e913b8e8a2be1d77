import { PartnerCallLedger } from './partner-call-ledger';

describe('PartnerCallLedger', () => {
  it.each([
    { name: 'empty ledger', calls: [], now: 1000, wait: 0 },
    { name: 'below the limit', calls: [100, 200], now: 1000, wait: 0 },
    {
      name: 'full window waits for the oldest call to age out',
      calls: [100, 200, 300],
      now: 1000,
      wait: 101,
    },
    { name: 'calls older than the window do not count', calls: [0, 50, 900], now: 1050, wait: 0 },
    {
      name: 'a call exactly one window old has aged out',
      calls: [0, 500, 600],
      now: 1000,
      wait: 0,
    },
  ])('$name', ({ calls, now, wait }) => {
    const ledger = new PartnerCallLedger(3, 1000);
    ledger.seed(calls, now);
    expect(ledger.waitMs(now)).toBe(wait);
  });

  it('counts seeded calls of the previous leader together with its own', () => {
    const ledger = new PartnerCallLedger(3, 1000);
    ledger.seed([100, 200], 300);
    ledger.record(300);
    expect(ledger.waitMs(300)).toBe(801);
    expect(ledger.snapshot(300)).toEqual([100, 200, 300]);
  });

  it('ignores duplicates when the same calls are seeded twice', () => {
    const ledger = new PartnerCallLedger(3, 1000);
    ledger.seed([100, 200], 300);
    ledger.seed([100, 200], 300);
    expect(ledger.waitMs(300)).toBe(0);
    expect(ledger.snapshot(300)).toEqual([100, 200]);
  });

  it('never lets more than the limit start in any window when every call waits its turn', () => {
    const ledger = new PartnerCallLedger(5, 1000);
    ledger.seed([0, 10, 20, 30, 40], 50);
    const started: number[] = [];
    let now = 50;
    while (started.length < 20) {
      const w = ledger.waitMs(now);
      if (w > 0) now += w;
      else {
        ledger.record(now);
        started.push(now);
        now += 7;
      }
    }
    const all = [0, 10, 20, 30, 40, ...started];
    for (const t of all) {
      expect(all.filter((c) => c > t - 1000 && c <= t).length).toBeLessThanOrEqual(5);
    }
  });

  it('counts a predecessor call as later by the seed margin (it reached the partner after its record)', () => {
    const ledger = new PartnerCallLedger(1, 1000);
    ledger.seed([0], 1000, 100);
    expect(ledger.waitMs(1000)).toBe(101);
  });

  it('forgets a reservation that is replaced by the real start time', () => {
    const ledger = new PartnerCallLedger(1, 1000);
    ledger.record(100);
    ledger.remove(100);
    expect(ledger.waitMs(150)).toBe(0);
  });

  it('counts two calls started in the same millisecond twice', () => {
    const ledger = new PartnerCallLedger(2, 1000);
    ledger.seed([100, 100], 200);
    expect(ledger.waitMs(200)).toBe(901);
  });
});
