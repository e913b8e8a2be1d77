import { FailedAttempts } from './failed-attempts';

describe('FailedAttempts', () => {
  let t: number;
  const limiter = (limit = 10, windowMs = 60_000, maxClients = 1000) =>
    new FailedAttempts({ limit, windowMs, maxClients, now: () => t });

  beforeEach(() => (t = 1_000_000));

  it('blocks a client at its 10th failure in a minute, until the first leaves the window', () => {
    const f = limiter();
    for (let i = 1; i <= 9; i++) {
      expect(f.recordFailure('a')).toBe(0);
      t += 1000;
    }
    expect(f.blockedFor('a')).toBe(0);
    // The 10th failure, 9 s after the first: blocked for the 51 s the first still counts.
    expect(f.recordFailure('a')).toBe(51_000);
    t += 50_999;
    expect(f.blockedFor('a')).toBe(1);
    t += 1;
    expect(f.blockedFor('a')).toBe(0);
    // One failure more is the 10th in the window again: blocked until the second one leaves.
    expect(f.recordFailure('a')).toBe(1000);
  });

  it('blocks nobody else', () => {
    const f = limiter(3);
    for (let i = 0; i < 3; i++) f.recordFailure('a');
    expect(f.blockedFor('a')).toBe(60_000);
    expect(f.blockedFor('b')).toBe(0);
    expect(f.recordFailure('b')).toBe(0);
  });

  it('forgets a client whose failures all left the window', () => {
    const f = limiter(3);
    f.recordFailure('a');
    f.recordFailure('a');
    t += 60_000;
    expect(f.blockedFor('a')).toBe(0);
    expect(f.size).toBe(0);
    // Its old failures no longer count.
    f.recordFailure('a');
    f.recordFailure('a');
    expect(f.blockedFor('a')).toBe(0);
  });

  it('keeps at most `limit` timestamps per client however often it fails', () => {
    const f = limiter(3);
    for (let i = 0; i < 1000; i++) f.recordFailure('a');
    expect(f.blockedFor('a')).toBe(60_000);
    t += 60_000;
    expect(f.blockedFor('a')).toBe(0);
  });

  it('tracks at most maxClients, forgetting the least recently seen', () => {
    const f = limiter(2, 60_000, 3);
    f.recordFailure('a');
    f.recordFailure('a');
    f.recordFailure('b');
    f.recordFailure('c');
    // a (blocked) is seen again, so b is now the least recently seen: d pushes it out.
    expect(f.blockedFor('a')).toBe(60_000);
    f.recordFailure('d');
    expect(f.size).toBe(3);
    f.recordFailure('b');
    expect(f.blockedFor('b')).toBe(0);
    expect(f.blockedFor('a')).toBe(60_000);
    // 10,000 addresses that each fail once hold no more than the cap.
    for (let i = 0; i < 10_000; i++) f.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(f.size).toBe(3);
  });
});
