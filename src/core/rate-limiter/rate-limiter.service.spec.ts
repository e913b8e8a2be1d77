import { loadConfig } from '../../config/app-config';
import { keyFingerprint } from './partner-keys';
import {
  HandedBackError,
  KeyRejectedVerdict,
  LimiterShutdownError,
  RateLimitedVerdict,
  TransientVerdict,
} from './rate-limiter.errors';
import { RateLimiterService, type RateLimiterOptions } from './rate-limiter.service';
import type { PartnerKey } from './rate-limiter.types';

// 5 calls per 1000 ms per key, margin 25 ms: Bottleneck's minTime is 205 ms.
const LIMIT = 5;
const WINDOW = 1000;
const MIN_TIME = 205;

function limiterFor(keys: string[], overrides: Partial<RateLimiterOptions> = {}) {
  const config = loadConfig({
    PARTNER_API_KEYS: keys.join(','),
    PARTNER_RATE_LIMIT: String(LIMIT),
    PARTNER_RATE_WINDOW_MS: String(WINDOW),
    PARTNER_MAX_CONCURRENCY: '2',
  });
  return new RateLimiterService(config, {
    breakerThreshold: 2,
    breakerHalfOpenAfterMs: 3000,
    rejectedProbeAfterMs: 5000,
    ...overrides,
  });
}

/** A job that records which key ran it and when, and answers after `ms` (or fails with `fail`). */
function recorder() {
  const calls: Array<{ key: string; at: number; endedAt?: number }> = [];
  const job =
    (ms = 0, fail?: (key: PartnerKey) => Error | null) =>
    (key: PartnerKey): Promise<string> => {
      const call: { key: string; at: number; endedAt?: number } = {
        key: key.label,
        at: Date.now(),
      };
      calls.push(call);
      return new Promise((resolve, reject) =>
        setTimeout(() => {
          call.endedAt = Date.now();
          const err = fail?.(key) ?? null;
          if (err) reject(err);
          else resolve(key.label);
        }, ms),
      );
    };
  return { calls, job };
}

const rateLimited = (waitUntil: number | null) =>
  new RateLimitedVerdict(new Error('Partner rate limit reached'), waitUntil);
const rejected = (status: 401 | 403) =>
  new KeyRejectedVerdict(new Error(`Partner rejected the API key (HTTP ${status})`), status);

describe('RateLimiterService (Bottleneck per key, fake timers)', () => {
  let limiter: RateLimiterService;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(async () => {
    const drained = limiter?.drain(0);
    await jest.advanceTimersByTimeAsync(10);
    await drained;
    jest.useRealTimers();
  });

  const settle = <T>(p: Promise<T>) =>
    p.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );

  it('spaces starts minTime apart, so no sliding window ever holds more than the limit', async () => {
    limiter = limiterFor(['key-a']);
    const { calls, job } = recorder();
    const all = Promise.all(Array.from({ length: 4 * LIMIT }, () => limiter.schedule(job(30))));
    while (calls.filter((c) => c.endedAt).length < 4 * LIMIT) {
      await jest.advanceTimersByTimeAsync(50);
    }
    await all;
    expect(calls).toHaveLength(4 * LIMIT);
    // Bottleneck counts minTime from its own launch; the job notes its start a tick later.
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(MIN_TIME - 2);
    }
    for (const end of calls) {
      const inWindow = calls.filter((c) => c.at > end.at - WINDOW && c.at <= end.at);
      expect(inWindow.length).toBeLessThanOrEqual(LIMIT);
    }
    // And it is not slower than it must be: 20 starts in 19 minTimes, plus the boot's slow start
    // and, per window, the 30 ms between a call's start and its answer (each call counts from its
    // answer in the key's own window, as the partner counted it in between).
    expect(calls[calls.length - 1].at - calls[0].at).toBeLessThanOrEqual(
      19 * MIN_TIME + 4 * 30 + 50,
    );
    const recent = calls.filter((c) => c.at > Date.now() - WINDOW).length;
    expect(recent).toBeGreaterThan(0);
    expect(limiter.state().keys[0]).toMatchObject({ state: 'active', spentInWindow: recent });
  });

  it('holds only the key that got a 429 until the reset, hands that job back, then releases it', async () => {
    limiter = limiterFor(['key-a']);
    const { calls, job } = recorder();
    const resetAt = Date.now() + 800;
    const first = settle(limiter.schedule(job(10, () => rateLimited(resetAt))));
    await jest.advanceTimersByTimeAsync(50);
    const r = await first;
    expect(r.ok).toBe(false);
    expect((r as { error: unknown }).error).toBeInstanceOf(HandedBackError);
    const key = limiter.state().keys[0];
    expect(key.state).toBe('held');
    expect(key.heldUntil).toBe(new Date(resetAt + 25).toISOString());
    expect(key.hold).toMatchObject({ reason: 'rate_limited', capped: false });
    expect(limiter.state().pausedUntil).toBe(key.heldUntil);
    expect(limiter.capacity()).toBe(0);

    const next = limiter.schedule(job(10));
    await jest.advanceTimersByTimeAsync(700);
    expect(calls).toHaveLength(1); // nothing reaches the partner while held
    // After the reset the key may take its share, what the partner accepted from it (nothing, so
    // 1): the probe also waits for its own rejected call to leave the window (+ margin).
    await jest.advanceTimersByTimeAsync(400);
    await expect(next).resolves.toBe('key #1');
    expect(calls).toHaveLength(2);
    expect(calls[1].at).toBeGreaterThanOrEqual(resetAt + 25);
    expect(calls[1].at).toBeGreaterThanOrEqual((calls[0].endedAt ?? 0) + WINDOW + 25);
    expect(limiter.state().keys[0]).toMatchObject({ state: 'active', hold: null, heldUntil: null });
    expect(limiter.state().pausedUntil).toBeNull();
  });

  it('restarts a key with one probe after a hold: the next call waits a pace step for its answer', async () => {
    limiter = limiterFor(['key-a']);
    const { calls, job } = recorder();
    const first = settle(limiter.schedule(job(10, () => rateLimited(Date.now() + 500))));
    await jest.advanceTimersByTimeAsync(20);
    await first;
    const jobs = Array.from({ length: 4 }, () => limiter.schedule(job(3000)));
    // The hold is over and the rejected call has left the key's window: the probe runs alone.
    await jest.advanceTimersByTimeAsync(1100);
    expect(calls).toHaveLength(2);
    expect(limiter.state().keys[0].state).toBe('probing');
    // A refusal (429, 401) comes back at once; a probe still unanswered a pace step later is not
    // one, and must not hold the key's turns for its whole deadline (a hung product): the rest
    // go, at the pace and within the key's share after a 429, and the key stays probing until a
    // call succeeds.
    await jest.advanceTimersByTimeAsync(2000);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (let i = 2; i < calls.length; i++) {
      expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(MIN_TIME - 2);
    }
    expect(calls[2].at - calls[1].at).toBeLessThan(3000);
    expect(limiter.state().keys[0].state).toBe('probing');
    await jest.advanceTimersByTimeAsync(1500); // the probe succeeded: full concurrency
    expect(limiter.state().keys[0]).toMatchObject({ state: 'active' });
    await jest.advanceTimersByTimeAsync(10_000);
    await Promise.all(jobs);
  });

  it('caps a reset hint far ahead to two windows', async () => {
    limiter = limiterFor(['key-a']);
    const { job } = recorder();
    const now = Date.now();
    const r = settle(limiter.schedule(job(0, () => rateLimited(now + 3_600_000))));
    await jest.advanceTimersByTimeAsync(10);
    await r;
    const hold = limiter.state().keys[0].hold!;
    expect(hold.capped).toBe(true);
    expect(Date.parse(hold.until)).toBeLessThanOrEqual(now + 10 + 2 * WINDOW);
    expect(Date.parse(hold.hintedUntil!)).toBe(now + 3_600_000 + 25);
  });

  it('sends the turns to the other key while one is held after a 429', async () => {
    limiter = limiterFor(['key-a', 'key-b']);
    const { calls, job } = recorder();
    const onA = (key: PartnerKey) =>
      key.label === 'key #1' ? rateLimited(Date.now() + 5000) : null;
    // Both keys are idle: the first job goes to key #1, the second to key #2 (least work).
    const a = settle(limiter.schedule(job(10, onA)));
    const b = settle(limiter.schedule(job(10, onA)));
    await jest.advanceTimersByTimeAsync(50);
    expect((await a).ok).toBe(false);
    expect(await b).toEqual({ ok: true, value: 'key #2' });
    expect(limiter.state().keys.map((k) => k.state)).toEqual(['held', 'active']);
    expect(limiter.state().pausedUntil).toBeNull(); // not every key is held
    expect(limiter.usable().map((k) => k.label)).toEqual(['key #2']);
    const more = Array.from({ length: 3 }, () => limiter.schedule(job(10)));
    await jest.advanceTimersByTimeAsync(1000);
    await expect(Promise.all(more)).resolves.toEqual(['key #2', 'key #2', 'key #2']);
    expect(calls.filter((c) => c.key === 'key #1')).toHaveLength(1);
  });

  it('takes a key the partner rejects out of rotation, keeps the other going, and probes it later', async () => {
    const logged: unknown[] = [];
    limiter = limiterFor(['key-a-secret', 'key-b-secret']);
    // The one error line names the key by label and fingerprint, never the key.
    jest
      .spyOn((limiter as unknown as { logger: { error: (m: unknown) => void } }).logger, 'error')
      .mockImplementation((m: unknown) => void logged.push(m));
    const { calls, job } = recorder();
    let refuseA = true;
    const onA = (key: PartnerKey) => (refuseA && key.label === 'key #1' ? rejected(401) : null);
    const a = settle(limiter.schedule(job(10, onA)));
    const b = settle(limiter.schedule(job(10, onA)));
    await jest.advanceTimersByTimeAsync(50);
    const ra = await a;
    // Another key is usable: the product-date is handed back (stays due), not failed.
    expect((ra as { error: unknown }).error).toBeInstanceOf(HandedBackError);
    expect((await b).ok).toBe(true);
    expect(limiter.state().keys[0]).toMatchObject({
      name: 'key #1',
      fingerprint: keyFingerprint('key-a-secret'),
      state: 'rejected',
      rejectedStatus: 401,
    });
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged)).toContain(keyFingerprint('key-a-secret'));
    expect(JSON.stringify(logged)).not.toContain('key-a-secret');
    expect(JSON.stringify(limiter.state())).not.toMatch(/key-[ab]-secret/);

    const during = Array.from({ length: 4 }, () => limiter.schedule(job(10, onA)));
    await jest.advanceTimersByTimeAsync(2000);
    await expect(Promise.all(during)).resolves.toEqual(Array(4).fill('key #2'));

    // Past the probe time the key is back in rotation, one call at a time; a success restores it.
    refuseA = false;
    await jest.advanceTimersByTimeAsync(3500);
    expect(limiter.state().keys[0].state).toBe('probing');
    const probe = limiter.schedule(job(10, onA));
    await jest.advanceTimersByTimeAsync(300);
    await expect(probe).resolves.toBe('key #1');
    expect(limiter.state().keys[0]).toMatchObject({ state: 'active', rejectedStatus: null });
    expect(calls.filter((c) => c.key === 'key #1')).toHaveLength(2);
  });

  it('returns the partner error when the only key is rejected, and then takes nothing', async () => {
    limiter = limiterFor(['key-a']);
    const { job } = recorder();
    const err = rejected(403);
    const r = await (async () => {
      const p = settle(limiter.schedule(job(0, () => err)));
      await jest.advanceTimersByTimeAsync(10);
      return p;
    })();
    expect((r as { error: unknown }).error).toBe(err.cause);
    expect(limiter.capacity()).toBe(0);
    await expect(limiter.schedule(job(0))).rejects.toMatchObject({ reason: 'no_usable_key' });
  });

  it('opens the breaker of one key after repeated transient failures; the other key continues', async () => {
    limiter = limiterFor(['key-a', 'key-b']);
    const { calls, job } = recorder();
    const down = (key: PartnerKey) =>
      key.label === 'key #1' ? new TransientVerdict(new Error('HTTP 503'), 'server_error') : null;
    for (let i = 0; i < 2; i++) {
      const p = settle(limiter.schedule(job(10, down)));
      const q = settle(limiter.schedule(job(10, down)));
      await jest.advanceTimersByTimeAsync(300);
      expect((await p).ok).toBe(false);
      expect((await q).ok).toBe(true);
    }
    expect(limiter.state().keys.map((k) => [k.state, k.breaker])).toEqual([
      ['breaker_open', 'open'],
      ['active', 'closed'],
    ]);
    expect(limiter.state().breaker).toBe('open');
    const seen = calls.length;
    const more = Array.from({ length: 3 }, () => limiter.schedule(job(10, down)));
    await jest.advanceTimersByTimeAsync(1000);
    await expect(Promise.all(more)).resolves.toEqual(Array(3).fill('key #2'));
    expect(calls.slice(seen).every((c) => c.key === 'key #2')).toBe(true);
  });

  it('counts capacity as what the usable keys can take now: concurrency + 1 each, one at first', async () => {
    limiter = limiterFor(['key-a', 'key-b']);
    const { job } = recorder();
    expect(limiter.capacity()).toBe(4); // slow start: 1 + 1 per key
    const first = Promise.all([limiter.schedule(job(0)), limiter.schedule(job(0))]);
    await jest.advanceTimersByTimeAsync(50);
    await expect(first).resolves.toEqual(['key #1', 'key #2']);
    expect(limiter.capacity()).toBe(6); // 2 + 1 per key
    const pending = limiter.schedule(job(5000));
    expect(limiter.capacity()).toBe(5);
    await jest.advanceTimersByTimeAsync(5300);
    await pending;
  });

  it('counts the spare room as share × limit per key less what its window holds and it was given', async () => {
    limiter = limiterFor(['key-a', 'key-b']);
    const { job } = recorder();
    // 0.5 of 5 rounds down to 2 per key.
    expect(limiter.spareRoom(0.5)).toBe(4);
    expect(limiter.spareRoom(1)).toBe(2 * LIMIT);
    expect(limiter.spareRoom(0)).toBe(0);
    const sent = Promise.all([limiter.schedule(job(0)), limiter.schedule(job(0))]);
    // Taken, not sent yet: counted already.
    expect(limiter.spareRoom(1)).toBe(2 * LIMIT - 2);
    await jest.advanceTimersByTimeAsync(50);
    await sent;
    expect(limiter.spareRoom(0.5)).toBe(2);
    // The window moves on: the room comes back.
    await jest.advanceTimersByTimeAsync(WINDOW + 100);
    expect(limiter.spareRoom(0.5)).toBe(4);
  });

  it('refuses a call a start guard throws for, spending nothing, and gives the guard the key name only', async () => {
    limiter = limiterFor(['key-a']);
    const { calls, job } = recorder();
    const seen: unknown[] = [];
    limiter.addStartGuard((key) => {
      seen.push(JSON.stringify(key));
      throw new Error('sync is paused');
    });
    const r = settle(limiter.schedule(job(0)));
    await jest.advanceTimersByTimeAsync(10);
    expect(await r).toMatchObject({ ok: false, error: new Error('sync is paused') });
    expect(calls).toHaveLength(0);
    expect(limiter.state().spentInWindow).toBe(0);
    expect(seen).toEqual([
      JSON.stringify({ label: 'key #1', fingerprint: keyFingerprint('key-a') }),
    ]);
  });

  it('stops on shutdown: waiting jobs are rejected and never run, running ones finish', async () => {
    limiter = limiterFor(['key-a']);
    const { calls, job } = recorder();
    const running = limiter.schedule(job(500));
    const waiting = Array.from({ length: 3 }, () => settle(limiter.schedule(job(0))));
    await jest.advanceTimersByTimeAsync(10);
    const drained = limiter.drain(2000);
    await jest.advanceTimersByTimeAsync(600);
    await expect(drained).resolves.toBe(true);
    await expect(running).resolves.toBe('key #1');
    for (const w of await Promise.all(waiting)) {
      expect((w as { error: unknown }).error).toBeInstanceOf(LimiterShutdownError);
    }
    expect(calls).toHaveLength(1);
    await expect(limiter.schedule(job(0))).rejects.toBeInstanceOf(LimiterShutdownError);
  });

  it('clearQueued hands back the waiting jobs and leaves the running one alone', async () => {
    limiter = limiterFor(['key-a']);
    const { calls, job } = recorder();
    const running = limiter.schedule(job(300));
    const waiting = Array.from({ length: 2 }, () => settle(limiter.schedule(job(0))));
    await jest.advanceTimersByTimeAsync(10);
    const reason = new Error('paused');
    expect(limiter.clearQueued(reason)).toBe(2);
    expect(limiter.state().queued).toBe(0);
    await jest.advanceTimersByTimeAsync(1000);
    await expect(running).resolves.toBe('key #1');
    expect((await Promise.all(waiting)).map((w) => !w.ok && w.error)).toEqual([reason, reason]);
    expect(calls).toHaveLength(1);
  });

  it('a call that hangs holds back no send the pace allows (in flight up to the deadline ÷ minTime + 1)', async () => {
    // Default PARTNER_MAX_CONCURRENCY: the cap is derived from the deadline and the pace.
    limiter = new RateLimiterService(
      loadConfig({
        PARTNER_API_KEY: 'key-a',
        PARTNER_RATE_LIMIT: String(LIMIT),
        PARTNER_RATE_WINDOW_MS: String(WINDOW),
        PARTNER_TIMEOUT_MS: '1000',
      }),
    );
    expect(limiter.options.maxConcurrency).toBe(Math.ceil(1000 / MIN_TIME) + 1);
    const { calls, job } = recorder();
    const warm = limiter.schedule(job(0)); // leaves the boot's slow start
    await jest.advanceTimersByTimeAsync(MIN_TIME);
    await warm;
    // Two calls that last the whole deadline (a trickling answer), then two ordinary ones.
    const hung = [limiter.schedule(job(1000)), limiter.schedule(job(1000))];
    const quick = Array.from({ length: 2 }, () => limiter.schedule(job(10)));
    const before = calls.length;
    let done = 0;
    for (const q of quick) void q.then(() => done++);
    // Four starts a pace apart; the hung pair is still in flight when the other two answered.
    await jest.advanceTimersByTimeAsync(4 * MIN_TIME + 50);
    expect(calls.length - before).toBe(4);
    expect(done).toBe(2);
    expect(limiter.state().running).toBe(2);
    // And the dispatcher may hand over more while they hang: their places are not turns.
    expect(limiter.capacity()).toBe(3);
    await jest.advanceTimersByTimeAsync(1000);
    await Promise.all([...hung, ...quick]);
  });

  it('a slow-start probe that hangs lets the next call go one pace later', async () => {
    limiter = limiterFor(['key-a']);
    const { calls, job } = recorder();
    expect(limiter.state().keys[0].state).toBe('probing');
    const probe = limiter.schedule(job(5000)); // the first call at boot hangs
    const next = limiter.schedule(job(10));
    // Not a quick 429 or 401: one pace step after it was sent the next call goes.
    await jest.advanceTimersByTimeAsync(2 * MIN_TIME + 50);
    await expect(next).resolves.toBe('key #1');
    expect(calls).toHaveLength(2);
    // That success ends the slow start while the probe still hangs.
    expect(limiter.state().keys[0].state).toBe('active');
    await jest.advanceTimersByTimeAsync(5000);
    await probe;
  });
});
