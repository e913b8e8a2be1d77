import {
  HandedBackError,
  LimiterShutdownError,
} from '../src/core/rate-limiter/rate-limiter.errors';
import {
  PartnerNotFoundError,
  PartnerServerError,
  PartnerTimeoutError,
  PartnerUnauthorizedError,
} from '../src/partner/partner-errors';
import { startPartnerHarness, type PartnerHarness } from './support/partner-harness';
import { until } from './support/until';

const DATES = Array.from({ length: 40 }, (_, i) =>
  new Date(Date.UTC(2025, 3, 1 + i)).toISOString().slice(0, 10),
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RateLimiterService against the partner simulator (5 requests per 1000 ms per key)', () => {
  let h: PartnerHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('never lets the partner see more than the limit in any sliding window, for a backlog of 4 windows', async () => {
    h = await startPartnerHarness();
    const results = await Promise.all(
      DATES.slice(0, 20).map((d) => h.gateway.fetchInventory(14, d, 'later')),
    );
    const stats = h.simulator.stats();
    expect(results.map((r) => r.length).filter((n) => n > 0).length).toBeGreaterThan(0);
    expect(stats.total).toBe(20);
    expect(stats.byStatus['200']).toBe(20);
    expect(stats.busiestWindow).toBeLessThanOrEqual(5);
    expect(stats.byStatus['429']).toBeUndefined();
  });

  it('starts waiting today jobs before week jobs before later jobs, whatever the arrival order', async () => {
    h = await startPartnerHarness({ sim: { rateLimit: 2 }, env: { PARTNER_MAX_CONCURRENCY: '1' } });
    // Bottleneck commits to the next job when a slot frees: the first call lasts until all are queued.
    h.simulator.setFaults({ latencyMs: 300 });
    const order: string[] = [];
    const job = (name: string, priority: 'today' | 'week' | 'later') =>
      h.limiter.schedule(
        (key) => {
          order.push(name);
          return h.client.fetchInventory(15, '2025-04-06', key.secret);
        },
        { priority },
      );
    // One at a time: the first starts at once; the rest wait and must start by priority, then arrival.
    await Promise.all([
      job('first', 'later'),
      job('second', 'later'),
      job('later-1', 'later'),
      job('week-1', 'week'),
      job('later-2', 'later'),
      job('today-1', 'today'),
      job('week-2', 'week'),
    ]);
    expect(order).toEqual(['first', 'today-1', 'week-1', 'week-2', 'second', 'later-1', 'later-2']);
  });

  it('joins concurrent callers of one product-date on one partner call', async () => {
    h = await startPartnerHarness({ sim: { rateLimit: 1 }, env: { PARTNER_MAX_CONCURRENCY: '1' } });
    const blocker = h.gateway.fetchInventory(14, DATES[0], 'later');
    const a = h.gateway.fetchInventory(14, DATES[1], 'later');
    const b = h.gateway.fetchInventory(14, DATES[1], 'today');
    expect(b).toBe(a);
    await Promise.all([blocker, a]);
    expect(h.simulator.stats().perProductDate[`14:${DATES[1]}`]).toBe(1);
    expect(h.simulator.stats().total).toBe(2);
  });

  it('holds the key until rateLimitState.reset after a 429, hands the job back, and sends nothing meanwhile', async () => {
    h = await startPartnerHarness();
    h.simulator.spendBudget(5); // a foreign consumer of the same key, behind our back
    await expect(h.gateway.fetchInventory(14, DATES[0], 'week')).rejects.toBeInstanceOf(
      HandedBackError,
    );
    const held = h.limiter.state().keys[0];
    expect(held.state).toBe('held');
    expect(h.limiter.capacity()).toBe(0);
    const heldUntil = Date.parse(held.heldUntil!);
    expect(heldUntil).toBeGreaterThan(Date.now());
    // Work handed over during the hold waits; the partner sees nothing until the reset.
    const countAtHold = h.simulator.stats().total;
    const rest = Promise.all(DATES.slice(0, 8).map((d) => h.fetchUntilDone(14, d)));
    await sleep(Math.max(0, heldUntil - Date.now() - 100));
    expect(h.simulator.stats().total).toBe(countAtHold);
    const results = await rest;
    const stats = h.simulator.stats();
    expect(results).toHaveLength(8);
    expect(stats.byStatus['429']).toBe(1);
    expect(stats.byStatus['200']).toBe(8);
    const metricsText = await h.metrics.registry.metrics();
    expect(metricsText).toMatch(/partner_calls_total\{outcome="rate_limited",key="key #1"\} 1/);
    expect(metricsText).toMatch(/partner_calls_total\{outcome="ok",key="key #1"\} 8/);
  });

  it('does not retry inside the limiter: a 5xx, a timeout, a 404 or a bad payload is the caller’s after one call', async () => {
    h = await startPartnerHarness({ env: { PARTNER_TIMEOUT_MS: '500' } });
    h.simulator.setFaults({ failNext: 1 });
    await expect(h.gateway.fetchInventory(14, DATES[0], 'today')).rejects.toBeInstanceOf(
      PartnerServerError,
    );
    h.simulator.setFaults({ timeoutNext: 1 });
    await expect(h.gateway.fetchInventory(14, DATES[1], 'today')).rejects.toBeInstanceOf(
      PartnerTimeoutError,
    );
    await expect(h.gateway.fetchInventory(999_999, DATES[2], 'today')).rejects.toBeInstanceOf(
      PartnerNotFoundError,
    );
    h.simulator.setFaults({ wrongShape: true });
    await expect(h.gateway.fetchInventory(14, '2025-04-06', 'today')).rejects.toMatchObject({
      outcome: 'invalid_payload',
    });
    const perPd = h.simulator.stats().perProductDate;
    expect([
      perPd[`14:${DATES[0]}`],
      perPd[`14:${DATES[1]}`],
      perPd[`999999:${DATES[2]}`],
      perPd['14:2025-04-06'],
    ]).toEqual([1, 1, 1, 1]);
    // The next call works: none of these faults held or rejected the key.
    h.simulator.setFaults({ wrongShape: false });
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).resolves.toHaveLength(9);
  });

  it('takes the only key out of rotation after a 401 instead of hammering the partner with it', async () => {
    h = await startPartnerHarness({ limiter: { rejectedProbeAfterMs: 60_000 } });
    h.simulator.setFaults({ unauthorized: true });
    // Nothing else to use: the caller gets the partner's error and records it.
    await expect(h.gateway.fetchInventory(14, DATES[0], 'today')).rejects.toBeInstanceOf(
      PartnerUnauthorizedError,
    );
    expect(h.limiter.state().keys[0]).toMatchObject({ state: 'rejected', rejectedStatus: 401 });
    expect(h.limiter.capacity()).toBe(0);
    await expect(h.gateway.fetchInventory(14, DATES[1], 'today')).rejects.toMatchObject({
      reason: 'no_usable_key',
    });
    expect(h.simulator.stats().total).toBe(1);
    // An operator's resume lets the key be probed at once.
    h.simulator.setFaults({ unauthorized: false });
    h.limiter.clearHold('test operator');
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).resolves.toHaveLength(9);
    expect(h.limiter.state().keys[0]).toMatchObject({ state: 'active', rejectedStatus: null });
  });

  it('opens the breaker on an outage, fails fast without spending budget, and closes on recovery', async () => {
    h = await startPartnerHarness({
      limiter: { breakerThreshold: 3, breakerHalfOpenAfterMs: 1500 },
    });
    h.simulator.setFaults({ outage: true });
    for (const d of DATES.slice(0, 3)) {
      await expect(h.gateway.fetchInventory(14, d, 'today')).rejects.toBeInstanceOf(
        PartnerServerError,
      );
    }
    expect(h.limiter.state().keys[0]).toMatchObject({ state: 'breaker_open', breaker: 'open' });
    expect(h.limiter.state().breaker).toBe('open');
    const seen = h.simulator.stats().total;
    const fast = await Promise.allSettled(
      DATES.slice(3, 10).map((d) => h.gateway.fetchInventory(14, d, 'today')),
    );
    expect(fast.every((r) => r.status === 'rejected' && r.reason instanceof HandedBackError)).toBe(
      true,
    );
    expect(h.simulator.stats().total).toBe(seen);

    h.simulator.setFaults({ outage: false });
    await until('the breaker to let a probe through', () => h.limiter.capacity() > 0, 5000);
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).resolves.toHaveLength(9);
    expect(h.limiter.state().breaker).toBe('closed');
    expect(h.simulator.stats().total).toBe(seen + 1);
  });

  it('opens the breaker when connections are refused too', async () => {
    h = await startPartnerHarness({ limiter: { breakerThreshold: 2 } });
    h.simulator.setFaults({ outage: 'refuse' });
    for (const d of DATES.slice(0, 2)) {
      await expect(h.gateway.fetchInventory(14, d, 'today')).rejects.toMatchObject({
        outcome: 'network_error',
      });
    }
    await expect(h.gateway.fetchInventory(14, DATES[2], 'today')).rejects.toMatchObject({
      reason: 'breaker_open',
    });
    expect(h.simulator.stats().total).toBe(2);
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
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).resolves.toHaveLength(9);
    expect(h.simulator.stats().total).toBe(1);
  });

  it('drains on shutdown: running calls finish, waiting ones are rejected and never sent', async () => {
    h = await startPartnerHarness({ sim: { rateLimit: 3 } });
    await h.gateway.fetchInventory(15, '2025-04-06', 'today'); // leaves slow start
    h.simulator.setFaults({ latencyMs: 400 });
    const settling = Promise.allSettled(
      DATES.slice(0, 3).map((d) => h.gateway.fetchInventory(14, d, 'later')),
    );
    await until('two calls in flight', () => h.limiter.state().running === 2, 5000, 5);
    await expect(h.limiter.drain(2000)).resolves.toBe(true);
    const settled = await settling;
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(2);
    expect(
      settled.filter((s) => s.status === 'rejected' && s.reason instanceof LimiterShutdownError),
    ).toHaveLength(1);
    await expect(h.gateway.fetchInventory(14, DATES[9], 'today')).rejects.toBeInstanceOf(
      LimiterShutdownError,
    );
    expect(h.simulator.stats().total).toBe(1 + 2);
  });
});

describe('two keys, each with its own budget (5 requests per 1000 ms each)', () => {
  let h: PartnerHarness;
  const KEYS = ['two-keys-first-secret-0001', 'two-keys-second-secret-0002'];
  afterEach(async () => {
    await h?.close();
  });

  it('uses both budgets: 20 product-dates in about two windows, no window over either limit', async () => {
    h = await startPartnerHarness({ sim: { apiKey: KEYS } });
    await Promise.all(DATES.slice(0, 20).map((d) => h.gateway.fetchInventory(14, d, 'later')));
    const stats = h.simulator.stats();
    expect(stats.byStatus).toEqual({ '200': 20 });
    expect(stats.keys.map((k) => k.total)).toEqual([10, 10]);
    expect(stats.keys.map((k) => k.busiestWindow <= 5)).toEqual([true, true]);
  });

  it('a 429 storm on one key holds only that key; the other does all the work', async () => {
    h = await startPartnerHarness({ sim: { apiKey: KEYS } });
    // A foreign consumer keeps key #1 spent for the whole test.
    h.simulator.spendBudget(5, 0);
    const storm = setInterval(() => h.simulator.spendBudget(5, 0), 100);
    try {
      const results = await Promise.all(DATES.slice(0, 12).map((d) => h.fetchUntilDone(14, d)));
      expect(results).toHaveLength(12);
      const [first, second] = h.simulator.stats().keys;
      // Key #1 costs one 429 per hold (each lasts until its reset, ~1 window), never a burst.
      expect(first.byStatus['200'] ?? 0).toBe(0);
      expect(first.byStatus['429']).toBeGreaterThanOrEqual(1);
      expect(first.total).toBe(first.byStatus['429']);
      expect(first.byStatus['429']).toBeLessThanOrEqual(5);
      expect(second.byStatus).toEqual({ '200': 12 });
      expect(h.limiter.state().keys[1].state).toBe('active');
    } finally {
      clearInterval(storm);
    }
  });

  it('a 401 on one key takes it out of rotation while the other continues, and state says which', async () => {
    h = await startPartnerHarness({
      sim: { apiKey: KEYS },
      limiter: { rejectedProbeAfterMs: 60_000 },
    });
    h.simulator.setFaults({ rejectKeys: [0] });
    const results = await Promise.all(DATES.slice(0, 8).map((d) => h.fetchUntilDone(14, d)));
    expect(results).toHaveLength(8);
    const [first, second] = h.simulator.stats().keys;
    expect(first.byStatus).toEqual({ '401': 1 });
    expect(second.byStatus).toEqual({ '200': 8 });
    const state = h.limiter.state();
    expect(state.keys.map((k) => [k.name, k.state, k.rejectedStatus])).toEqual([
      ['key #1', 'rejected', 401],
      ['key #2', 'active', null],
    ]);
    expect(JSON.stringify(state)).not.toContain(KEYS[0]);
    expect(JSON.stringify(state)).not.toContain(KEYS[1]);
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
      h.client.fetchInventory(14, '2025-04-03', h.keys[0]).then(
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

  it('keeps syncing other product-dates: the trickling calls time out and the rest succeed', async () => {
    h = await startPartnerHarness({
      sim: { rateLimit: 20 },
      env: { PARTNER_TIMEOUT_MS: '1000', PARTNER_MAX_CONCURRENCY: '2' },
    });
    await h.gateway.fetchInventory(15, '2025-04-06', 'today'); // leaves slow start
    // Both concurrency slots get a trickling answer, as in the production incident.
    h.simulator.setFaults({ trickleNext: 2, trickleIntervalMs: 100 });
    const dates = ['2025-04-01', '2025-04-03', '2025-04-02', '2025-04-04', '2025-04-05'];
    const all = Promise.allSettled(dates.map((d) => h.gateway.fetchInventory(14, d, 'week')));
    const results = await within(all, 15_000);
    expect(results).not.toBe('still pending');
    const settled = results as PromiseSettledResult<unknown>[];
    expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(
      settled.filter((r) => r.status === 'rejected' && r.reason instanceof PartnerTimeoutError),
    ).toHaveLength(2);
    const metricsText = await h.metrics.registry.metrics();
    expect(metricsText).toMatch(/partner_calls_total\{outcome="timeout",key="key #1"\} 2/);
    expect(metricsText).toMatch(/partner_calls_total\{outcome="ok",key="key #1"\} 4/);
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
    const pending = Promise.all(DATES.slice(0, 3).map((d) => h.fetchUntilDone(14, d)));
    const hold = await until('the hold', () => h.limiter.state().keys[0].hold, 5000, 5);
    expect(hold).toMatchObject({ reason: 'rate_limited', capped: true });
    expect(Date.parse(hold.hintedUntil!)).toBeGreaterThan(hitAt + 3_500_000);
    expect(Date.parse(hold.until)).toBeLessThanOrEqual(Date.now() + 2 * 1000 + 100);
    expect(h.limiter.state().pausedUntil).toBe(hold.until);
    // Generous bound for a loaded machine; obeying the hint would hold the key for an hour.
    const results = await within(pending, 10_000);
    expect(results).not.toBe('still pending');
    expect(h.simulator.stats().byStatus['200']).toBe(3);
    expect(h.limiter.state().keys[0].hold).toBeNull();
  });

  it('clearHold (an operator) releases the hold at once', async () => {
    h = await startPartnerHarness({ sim: { windowMs: 60_000, rateLimit: 50 } });
    h.simulator.setFaults({ farResetMs: 3_600_000 });
    h.simulator.spendBudget(50);
    await expect(h.gateway.fetchInventory(14, DATES[0], 'today')).rejects.toBeInstanceOf(
      HandedBackError,
    );
    const hold = h.limiter.state().keys[0].hold!;
    expect(Date.parse(hold.until)).toBeGreaterThan(Date.now() + 60_000);
    h.simulator.reset(); // the foreign consumer is gone and the partner forgot its window
    expect(h.limiter.clearHold('test operator')).toMatchObject({ capped: true });
    const state = h.limiter.state();
    expect(state.keys[0]).toMatchObject({ hold: null, heldUntil: null, state: 'probing' });
    expect(state.pausedUntil).toBeNull();
    await expect(h.gateway.fetchInventory(14, '2025-04-03', 'today')).resolves.toHaveLength(9);
    expect(h.limiter.clearHold('test operator')).toBeNull();
  });

  function within<T>(p: Promise<T>, ms: number): Promise<T | 'still pending'> {
    return Promise.race([
      p,
      new Promise<'still pending'>((r) => setTimeout(() => r('still pending'), ms)),
    ]);
  }
});
