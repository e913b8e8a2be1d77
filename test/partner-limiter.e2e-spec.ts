import { LimiterShutdownError } from '../src/core/rate-limiter.errors';
import {
  PartnerBreakerOpenError,
  PartnerNotFoundError,
  PartnerServerError,
  PartnerTimeoutError,
  PartnerUnauthorizedError,
} from '../src/partner/partner-errors';
import { startPartnerHarness, type PartnerHarness } from '../src/partner/testing/partner-harness';

/** Polls `check` until it holds or the deadline passes (no fixed sleeps). */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const DATES = Array.from({ length: 40 }, (_, i) =>
  new Date(Date.UTC(2025, 3, 1 + i)).toISOString().slice(0, 10),
);

describe('RateLimiterService against the partner simulator (5 requests per 1000 ms)', () => {
  let h: PartnerHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('never lets the partner see more than the limit in any sliding window, for a backlog of 4 windows', async () => {
    h = await startPartnerHarness();
    const jobs = DATES.slice(0, 20).map((d) => h.gateway.fetchInventory(14, d, 'later'));
    const results = await Promise.all(jobs);
    const stats = h.simulator.stats();
    expect(results).toHaveLength(20);
    expect(stats.total).toBe(20);
    expect(stats.byStatus['200']).toBe(20);
    expect(stats.busiestWindow).toBeLessThanOrEqual(5);
    expect(stats.byStatus['429']).toBeUndefined();
  });

  it('starts waiting today jobs before week jobs before later jobs, whatever the arrival order', async () => {
    h = await startPartnerHarness({ sim: { rateLimit: 2 }, env: { PARTNER_MAX_CONCURRENCY: '1' } });
    const order: string[] = [];
    const job = (key: string, priority: 'today' | 'week' | 'later') =>
      h.limiter.schedule({
        key,
        priority,
        run: async () => {
          order.push(key);
          return h.client.fetchInventory(15, '2025-04-06');
        },
      });
    // One at a time: the first starts at once; the rest wait and must start by priority, then arrival.
    const all = [
      job('first', 'later'),
      job('second', 'later'),
      job('later-1', 'later'),
      job('week-1', 'week'),
      job('later-2', 'later'),
      job('today-1', 'today'),
      job('week-2', 'week'),
    ];
    await Promise.all(all);
    expect(order).toEqual(['first', 'today-1', 'week-1', 'week-2', 'second', 'later-1', 'later-2']);
  });

  it('collapses duplicate product-dates into one partner call and promotes the waiting job', async () => {
    h = await startPartnerHarness({ sim: { rateLimit: 1 }, env: { PARTNER_MAX_CONCURRENCY: '1' } });
    const blocker = h.gateway.fetchInventory(14, DATES[0], 'later');
    const a = h.gateway.fetchInventory(14, DATES[1], 'later');
    const other = h.gateway.fetchInventory(14, DATES[2], 'week');
    const b = h.gateway.fetchInventory(14, DATES[1], 'today');
    expect(b).toBe(a);
    expect(h.limiter.state().queued).toEqual({ today: 1, week: 1, later: 0 });
    await Promise.all([blocker, a, other]);
    const perPd = h.simulator.stats().perProductDate;
    expect(perPd[`14:${DATES[1]}`]).toBe(1);
    expect(h.simulator.stats().total).toBe(3);
  });

  it('holds the whole queue until rateLimitState.reset after a 429, requeues the job and completes every job', async () => {
    h = await startPartnerHarness();
    h.simulator.spendBudget(5); // a foreign consumer of the same key, behind our back
    const spentAt = Date.now();
    const results = await Promise.all(
      DATES.slice(0, 8).map((d) => h.gateway.fetchInventory(14, d, 'week')),
    );
    const stats = h.simulator.stats();
    expect(results).toHaveLength(8);
    expect(stats.byStatus['429']).toBe(1);
    expect(stats.byStatus['200']).toBe(8);
    // Nothing reached the partner between the 429 and the refill.
    expect(Date.now() - spentAt).toBeGreaterThanOrEqual(1000);
    expect(h.metrics.registry).toBeDefined();
    const metricsText = await h.metrics.registry.metrics();
    expect(metricsText).toMatch(/partner_calls_total\{outcome="rate_limited"\} 1/);
    expect(metricsText).toMatch(/partner_calls_total\{outcome="ok"\} 8/);
  });

  it('reports the hold in state() while the queue waits for the refill', async () => {
    h = await startPartnerHarness();
    h.simulator.spendBudget(5);
    const pending = Promise.all(
      DATES.slice(0, 3).map((d) => h.gateway.fetchInventory(14, d, 'today')),
    );
    await eventually(() => h.limiter.state().pausedUntil !== null);
    const state = h.limiter.state();
    const countAtHold = h.simulator.stats().total;
    expect(Date.parse(state.pausedUntil!)).toBeGreaterThan(Date.now());
    expect(state.queued.today).toBeGreaterThanOrEqual(1);
    expect(h.simulator.stats().total).toBe(countAtHold);
    await pending;
  });

  it('retries 5xx through the queue with backoff and succeeds once the partner recovers', async () => {
    h = await startPartnerHarness();
    h.simulator.setFaults({ failNext: 2 });
    const inv = await h.gateway.fetchInventory(14, '2025-04-03', 'today');
    expect(inv).toHaveLength(9);
    const stats = h.simulator.stats();
    expect(stats.byStatus['500']).toBe(2);
    expect(stats.byStatus['200']).toBe(1);
  });

  it('retries a timeout and gives up after the bounded number of attempts', async () => {
    h = await startPartnerHarness();
    h.simulator.setFaults({ timeoutNext: 1 });
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).resolves.toHaveLength(9);
    h.simulator.setFaults({ failNext: 10 });
    await expect(h.gateway.fetchInventory(14, '2025-04-06', 'today')).rejects.toBeInstanceOf(
      PartnerServerError,
    );
    expect(h.simulator.stats().perProductDate['14:2025-04-06']).toBe(3);
    expect(h.simulator.stats().byStatus.none).toBe(1);
  });

  it('does not retry 401, 404 or invalid payloads', async () => {
    h = await startPartnerHarness();
    await expect(h.gateway.fetchInventory(999_999, '2025-04-03', 'today')).rejects.toBeInstanceOf(
      PartnerNotFoundError,
    );
    h.simulator.setFaults({ wrongShape: true });
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).rejects.toMatchObject({
      outcome: 'invalid_payload',
    });
    h.simulator.setFaults({ wrongShape: false, unauthorized: true });
    await expect(h.gateway.fetchInventory(14, '2025-04-06', 'today')).rejects.toBeInstanceOf(
      PartnerUnauthorizedError,
    );
    const perPd = h.simulator.stats().perProductDate;
    expect(perPd['999999:2025-04-03']).toBe(1);
    expect(perPd['14:2025-04-03']).toBe(1);
    expect(perPd['14:2025-04-06']).toBe(1);
  });

  it('holds the queue after a 401 instead of hammering the partner with a bad key', async () => {
    h = await startPartnerHarness({ limiter: { unauthorizedHoldMs: 60_000 } });
    h.simulator.setFaults({ unauthorized: true });
    const first = h.gateway.fetchInventory(14, DATES[0], 'today');
    const rest = DATES.slice(1, 4).map((d) => h.gateway.fetchInventory(14, d, 'today'));
    await expect(first).rejects.toBeInstanceOf(PartnerUnauthorizedError);
    await eventually(() => h.limiter.state().pausedUntil !== null);
    expect(h.simulator.stats().total).toBe(1); // slow start: the bad key cost one call
    expect(h.limiter.state().queued.today).toBe(3);
    expect(h.limiter.clearQueued(new Error('test over'))).toBe(3);
    await Promise.allSettled(rest);
  });

  it('opens the breaker on an outage, fails fast without spending budget, and closes on recovery', async () => {
    h = await startPartnerHarness({
      limiter: { breakerThreshold: 3, maxAttempts: 1, breakerHalfOpenAfterMs: 1500 },
    });
    h.simulator.setFaults({ outage: true });
    for (const d of DATES.slice(0, 3)) {
      await expect(h.gateway.fetchInventory(14, d, 'today')).rejects.toBeInstanceOf(
        PartnerServerError,
      );
    }
    expect(h.limiter.state().breaker).toBe('open');
    const seen = h.simulator.stats().total;
    const fast = await Promise.allSettled(
      DATES.slice(3, 10).map((d) => h.gateway.fetchInventory(14, d, 'today')),
    );
    expect(
      fast.every((r) => r.status === 'rejected' && r.reason instanceof PartnerBreakerOpenError),
    ).toBe(true);
    expect(h.simulator.stats().total).toBe(seen);

    h.simulator.setFaults({ outage: false });
    await eventually(() => h.limiter.state().breaker === 'half-open', 5000);
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).resolves.toHaveLength(9);
    expect(h.limiter.state().breaker).toBe('closed');
    expect(h.simulator.stats().total).toBe(seen + 1);
  });

  it('opens the breaker when connections are refused too', async () => {
    h = await startPartnerHarness({ limiter: { breakerThreshold: 2, maxAttempts: 1 } });
    h.simulator.setFaults({ outage: 'refuse' });
    await expect(h.gateway.fetchInventory(14, DATES[0], 'today')).rejects.toMatchObject({
      outcome: 'network_error',
    });
    await expect(h.gateway.fetchInventory(14, DATES[1], 'today')).rejects.toMatchObject({
      outcome: 'network_error',
    });
    await expect(h.gateway.fetchInventory(14, DATES[2], 'today')).rejects.toBeInstanceOf(
      PartnerBreakerOpenError,
    );
  });

  it('rejects a job whose start guard throws, without spending budget', async () => {
    h = await startPartnerHarness();
    let paused = true;
    h.limiter.addStartGuard(() => {
      if (paused) throw new Error('sync is paused');
    });
    await expect(h.gateway.fetchInventory(14, DATES[0], 'today')).rejects.toThrow('sync is paused');
    expect(h.simulator.stats().total).toBe(0);
    expect(h.limiter.state().spentInWindow).toBe(0);
    paused = false;
    await expect(h.gateway.fetchInventory(14, DATES[0], 'today')).resolves.toBeDefined();
    expect(h.simulator.stats().total).toBe(1);
  });

  it('clearQueued rejects every waiting job and leaves the running ones alone', async () => {
    h = await startPartnerHarness({ sim: { rateLimit: 3 } });
    await h.gateway.fetchInventory(15, '2025-04-06', 'today'); // leaves slow start
    h.simulator.setFaults({ latencyMs: 100 });
    const settling = Promise.allSettled(
      DATES.slice(0, 6).map((d) => h.gateway.fetchInventory(14, d, 'later')),
    );
    const before = h.limiter.state();
    expect(before.running).toBe(2);
    expect(before.queued.later).toBe(4);
    const reason = new Error('paused by operator');
    expect(h.limiter.clearQueued(reason)).toBe(4);
    expect(h.limiter.state().queued.later).toBe(0);
    const settled = await settling;
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(2);
    expect(settled.filter((s) => s.status === 'rejected' && s.reason === reason)).toHaveLength(4);
    expect(h.simulator.stats().total).toBe(1 + 2);
  });

  it('drains on shutdown: running calls finish, queued ones are rejected and never sent', async () => {
    h = await startPartnerHarness({ sim: { rateLimit: 3 } });
    await h.gateway.fetchInventory(15, '2025-04-06', 'today'); // leaves slow start
    h.simulator.setFaults({ latencyMs: 150 });
    const settling = Promise.allSettled(
      DATES.slice(0, 5).map((d) => h.gateway.fetchInventory(14, d, 'later')),
    );
    await eventually(() => h.limiter.state().running === 2);
    await expect(h.limiter.drain(2000)).resolves.toBe(true);
    const settled = await settling;
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(2);
    expect(
      settled.filter((s) => s.status === 'rejected' && s.reason instanceof LimiterShutdownError),
    ).toHaveLength(3);
    await expect(h.gateway.fetchInventory(14, DATES[9], 'today')).rejects.toBeInstanceOf(
      LimiterShutdownError,
    );
    expect(h.simulator.stats().total).toBe(1 + 2);
  });

  it('times out a partner that never answers, as a typed timeout error', async () => {
    h = await startPartnerHarness({ limiter: { maxAttempts: 1 } });
    h.simulator.setFaults({ timeout: true });
    await expect(h.gateway.fetchInventory(14, DATES[0], 'today')).rejects.toBeInstanceOf(
      PartnerTimeoutError,
    );
  });
});

describe('a partner answer that never ends (headers, then 1 byte every 100 ms)', () => {
  let h: PartnerHarness;
  afterEach(async () => {
    await h?.close();
  });

  /** Settles `p`, or reports that it was still pending after `ms` (instead of hanging the suite). */
  const within = <T>(p: Promise<T>, ms: number): Promise<T | 'still pending'> =>
    Promise.race([
      p,
      new Promise<'still pending'>((r) => setTimeout(() => r('still pending'), ms)),
    ]);

  it('ends the call at the PARTNER_TIMEOUT_MS deadline as a counted timeout', async () => {
    h = await startPartnerHarness({ env: { PARTNER_TIMEOUT_MS: '1000' } });
    h.simulator.setFaults({ trickle: true, trickleIntervalMs: 100 });
    const started = Date.now();
    const outcome = await within(
      h.client.fetchInventory(14, '2025-04-03').then(
        () => 'answered',
        (err: unknown) => err,
      ),
      8000,
    );
    const elapsed = Date.now() - started;
    expect(outcome).toBeInstanceOf(PartnerTimeoutError);
    expect((outcome as PartnerTimeoutError).message).toContain('1000 ms');
    expect(elapsed).toBeGreaterThanOrEqual(900);
    // Generous margin for a loaded machine; without a deadline the call lasts ~7 minutes.
    expect(elapsed).toBeLessThan(6000);
  });

  it('keeps syncing other product-dates: the trickling calls time out, are retried through the budget and succeed', async () => {
    h = await startPartnerHarness({
      sim: { rateLimit: 20 },
      env: { PARTNER_TIMEOUT_MS: '1000', PARTNER_MAX_CONCURRENCY: '2' },
    });
    await h.gateway.fetchInventory(15, '2025-04-06', 'today'); // leaves slow start
    // Both concurrency slots get a trickling answer, as in the production incident (Tuesday and
    // Thursday: product 14 has nine slots, a body of some 4 KB).
    h.simulator.setFaults({ trickleNext: 2, trickleIntervalMs: 100 });
    const dates = [
      '2025-04-01',
      '2025-04-03',
      '2025-04-02',
      '2025-04-04',
      '2025-04-05',
      '2025-04-06',
    ];
    const all = Promise.all(dates.map((d) => h.gateway.fetchInventory(14, d, 'week')));
    const results = await within(all, 15_000);
    expect(results).not.toBe('still pending');
    expect(results as unknown[]).toHaveLength(6);
    const metricsText = await h.metrics.registry.metrics();
    expect(metricsText).toMatch(/partner_calls_total\{outcome="timeout"\} 2/);
    expect(metricsText).toMatch(/partner_calls_total\{outcome="ok"\} 7/);
    // 1 + 6 answered, plus the 2 trickled attempts that were retried.
    const stats = h.simulator.stats();
    expect(stats.total).toBe(9);
    expect(stats.perProductDate['14:2025-04-01']).toBe(2);
    expect(stats.perProductDate['14:2025-04-03']).toBe(2);
  });
});

describe('rate-limit holds (5 requests per 1000 ms)', () => {
  let h: PartnerHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('caps a reset one hour ahead to 2 windows, shows the capped hold in state() and completes the work', async () => {
    h = await startPartnerHarness();
    h.simulator.setFaults({ farResetMs: 3_600_000 });
    h.simulator.spendBudget(5); // a foreign consumer spent the key
    const hitAt = Date.now();
    const pending = Promise.all(
      DATES.slice(0, 3).map((d) => h.gateway.fetchInventory(14, d, 'today')),
    );
    await eventually(() => h.limiter.state().hold != null);
    const hold = h.limiter.state().hold!;
    expect(hold).toMatchObject({ reason: 'rate_limited', capped: true });
    expect(Date.parse(hold.hintedUntil!)).toBeGreaterThan(hitAt + 3_500_000);
    expect(Date.parse(hold.until)).toBeLessThanOrEqual(Date.now() + 2 * 1000 + 100);
    expect(h.limiter.state().pausedUntil).toBe(hold.until);
    // Generous bound for a loaded machine; obeying the hint would hold the queue for an hour.
    const results = await Promise.race([
      pending,
      new Promise<'still held'>((r) => setTimeout(() => r('still held'), 10_000)),
    ]);
    expect(results).not.toBe('still held');
    expect(h.simulator.stats().byStatus['200']).toBe(3);
    expect(h.limiter.state().hold).toBeNull();
  });

  it('clearHold (an operator) releases the hold at once and restores the whole budget', async () => {
    h = await startPartnerHarness({ sim: { windowMs: 60_000 } });
    h.simulator.setFaults({ farResetMs: 3_600_000 });
    h.simulator.spendBudget(5);
    const pending = h.gateway.fetchInventory(14, DATES[0], 'today');
    await eventually(() => h.limiter.state().hold != null);
    expect(Date.parse(h.limiter.state().hold!.until)).toBeGreaterThan(Date.now() + 60_000);
    h.simulator.reset(); // the foreign consumer is gone and the partner forgot its window
    expect(h.limiter.clearHold('test operator')).toMatchObject({ capped: true });
    await expect(pending).resolves.toHaveLength(9);
    const state = h.limiter.state();
    expect(state.hold).toBeNull();
    expect(state.pausedUntil).toBeNull();
    expect(state.effectiveLimit).toBe(5);
    expect(h.limiter.clearHold('test operator')).toBeNull();
  });

  it('is back to the whole budget one window after a foreign burst, even when idle meanwhile', async () => {
    h = await startPartnerHarness();
    await h.gateway.fetchInventory(15, '2025-04-06', 'today');
    h.simulator.spendBudget(5); // the foreign burst: the key is spent
    const first = h.gateway.fetchInventory(14, DATES[0], 'today'); // one 429, then the refill
    await eventually(() => h.limiter.state().hold != null);
    expect(h.limiter.state().effectiveLimit).toBeLessThan(5);
    await first;
    expect(h.simulator.stats().byStatus['429']).toBe(1);
    // Idle for a little over one window (+ margin): nothing is sent, yet the limit is restored.
    await new Promise((r) => setTimeout(r, 1300));
    expect(h.limiter.state().effectiveLimit).toBe(5);
    const before = h.simulator.stats().total;
    const results = await Promise.all(
      DATES.slice(1, 6).map((d) => h.gateway.fetchInventory(14, d, 'today')),
    );
    expect(results).toHaveLength(5);
    const stats = h.simulator.stats();
    expect(stats.total - before).toBe(5);
    expect(stats.byStatus['429']).toBe(1);
  });
});
