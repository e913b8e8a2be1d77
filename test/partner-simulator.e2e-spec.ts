import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { stateAt, type ChangeModelParams } from '../src/partner/simulator/change-model';
import { simulatedInventory, type WireSlot } from '../src/partner/simulator/simulator-data';

const KEY = 'sim-test-key-123456';

describe('PartnerSimulator', () => {
  let sim: PartnerSimulator;
  let url: string;
  const get = (path: string, key = KEY) =>
    fetch(`${url}${path}`, { headers: { 'x-api-key': key } });

  beforeEach(async () => {
    sim = new PartnerSimulator({ rateLimit: 3, windowMs: 600, apiKey: KEY });
    url = await sim.start();
  });
  afterEach(() => sim.stop());

  it('counts every request in the sliding window, rejected ones included, and answers 429 with reset in epoch ms', async () => {
    const statuses: number[] = [];
    let body = { message: '', rateLimitState: { remaining: -1, reset: 0 } };
    for (let i = 0; i < 5; i++) {
      const res = await get('/api/v1/inventory/14?date=2025-04-03');
      statuses.push(res.status);
      if (res.status === 429) body = (await res.json()) as typeof body;
      else await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(body.message).toBe('Too many requests');
    expect(body.rateLimitState.remaining).toBe(0);
    expect(body.rateLimitState.reset).toBeGreaterThan(Date.now());
    const stats = sim.stats();
    expect(stats.busiestWindow).toBe(5);
    expect(stats.byStatus).toEqual({ '200': 3, '429': 2 });
    expect(stats.perProductDate['14:2025-04-03']).toBe(5);
    // Each 429 on record with the reset its body announced (the last one is the body above).
    const recorded = stats.keys[0].rateLimited;
    expect(recorded).toHaveLength(2);
    expect(recorded[1].reset).toBe(body.rateLimitState.reset);
    expect(recorded[0].at).toBeLessThanOrEqual(recorded[1].at);

    // At rateLimitState.reset the window has room again.
    while (Date.now() < body.rateLimitState.reset) await new Promise((r) => setTimeout(r, 10));
    expect((await get('/api/v1/inventory/14?date=2025-04-03')).status).toBe(200);
  });

  it('answers 401 to a wrong key without spending the key budget', async () => {
    const res = await get('/api/v1/inventory/14?date=2025-04-03', 'nope');
    expect(res.status).toBe(401);
    expect(sim.stats().inWindowNow).toBe(0);
  });

  it('answers 404 for an unknown product and 400 for a bad date', async () => {
    expect((await get('/api/v1/inventory/999999?date=2025-04-03')).status).toBe(404);
    expect((await get('/api/v1/inventory/14?date=2025-4-3')).status).toBe(400);
    expect((await get('/api/v1/inventory/14')).status).toBe(400);
  });

  it('serves the real weekly pattern: product 14 on Thu/Sun/Tue, product 15 on Sundays', async () => {
    const days = [
      '2025-03-31',
      '2025-04-01',
      '2025-04-02',
      '2025-04-03',
      '2025-04-04',
      '2025-04-05',
      '2025-04-06',
    ];
    const count = (p: number) => days.map((d) => simulatedInventory(p, d, 1, 0).length);
    expect(count(14)).toEqual([0, 9, 0, 9, 0, 0, 9]);
    expect(count(15)).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });

  it('generates the same data for other products every time, with some empty dates', () => {
    const days = Array.from({ length: 30 }, (_, i) => `2025-05-${String(i + 1).padStart(2, '0')}`);
    const a = days.map((d) => simulatedInventory(77, d, 1, 0));
    expect(days.map((d) => simulatedInventory(77, d, 1, 0))).toEqual(a);
    expect(a.some((s) => s.length === 0)).toBe(true);
    expect(a.some((s) => s.length > 0)).toBe(true);
    expect(simulatedInventory(77, '2025-05-02', 2, 0)).not.toEqual(
      simulatedInventory(77, '2025-05-02', 1, 0),
    );
  });

  it('moves seat counts slowly over time', () => {
    const seats = (bucket: number) =>
      simulatedInventory(14, '2025-04-03', 1, bucket).map((s) => s.paxAvailability[0].remaining);
    expect(seats(1)).not.toEqual(seats(0));
    for (const n of seats(1)) expect(n).toBeGreaterThan(990);
  });

  it('is controllable over HTTP by tests in other processes', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    await post('/__sim/faults', { failNext: 1, serverErrorStatus: 503 });
    expect((await get('/api/v1/inventory/14?date=2025-04-03')).status).toBe(503);
    await post('/__sim/inventory', { productId: 14, date: '2025-04-03', slots: [] });
    expect(await (await get('/api/v1/inventory/14?date=2025-04-03')).json()).toEqual([]);
    await post('/__sim/spend', { count: 3 });
    expect((await get('/api/v1/inventory/14?date=2025-04-03')).status).toBe(429);
    const stats = await (await fetch(`${url}/__sim/stats`)).json();
    expect(stats).toMatchObject({
      total: 3,
      foreign: 3,
      byStatus: { '503': 1, '200': 1, '429': 1 },
    });
    await post('/__sim/reset', {});
    const after = (await (await fetch(`${url}/__sim/stats`)).json()) as { total: number };
    expect(after.total).toBe(0);
  });

  describe('change model', () => {
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const today = new Date().toISOString().slice(0, 10);
    type Truth = { at: number; slots: WireSlot[] };
    const truth = async (query: string): Promise<Truth> =>
      (await (await fetch(`${url}/__sim/truth/1?${query}`)).json()) as Truth;

    it('is off by default: the truth is the drifting data, as answered', async () => {
      expect(await (await fetch(`${url}/__sim/changes`)).json()).toEqual({ changes: null });
      const at = Date.now();
      const { slots } = await truth(`date=2025-04-03&at=${at}`);
      expect(slots).toEqual(simulatedInventory(1, '2025-04-03', 1, Math.floor(at / 300_000)));
    });

    it('answers its state at that instant, which the truth endpoint gives without spending budget', async () => {
      const started = Date.now() - 2 * 86_400_000;
      const res = await post('/__sim/changes', { ratePerHour: 6, seed: 3, startMs: started });
      expect(((await res.json()) as { changes: ChangeModelParams }).changes).toMatchObject({
        ratePerHour: 6,
        seed: 3,
        startMs: started,
        popularitySkew: 1,
      });
      const now = Date.now();
      const params = sim.getChangeModel()!;
      const expected = stateAt(params, 1, today, simulatedInventory(1, today, 1, 0), now);
      expect((await truth(`date=${today}&at=${now}`)).slots).toEqual(expected);
      // The model moved the answer away from where it started (product 1, today: ~6 an hour).
      expect(expected).not.toEqual(
        stateAt(params, 1, today, simulatedInventory(1, today, 1, 0), started),
      );
      expect(sim.stats().total).toBe(0);
      expect(sim.stats().inWindowNow).toBe(0);

      const answer = (await (await get(`/api/v1/inventory/1?date=${today}`)).json()) as WireSlot[];
      const after = await truth(`date=${today}`);
      // An event between the two (rate ~6 an hour) would make them differ; not within milliseconds.
      expect(answer).toEqual(after.slots);
    });

    it('moves a product-date from its own start when one is given', async () => {
      const now = Date.now();
      sim.setChangeModel({ ratePerHour: 600, startMs: now - 86_400_000 });
      sim.setChangeStarts(new Map([[`1:${today}`, now]]));
      const initial = stateAt(
        { ...sim.getChangeModel()!, startMs: now },
        1,
        today,
        simulatedInventory(1, today, 1, 0),
        now,
      );
      // Unchanged at its start, though the model started a day ago (600 an hour).
      expect(sim.truth(1, today, now)).toEqual(initial);
      expect(sim.truth(2, today, now)).not.toEqual(
        stateAt(
          sim.getChangeModel()!,
          2,
          today,
          simulatedInventory(2, today, 1, 0),
          now - 86_400_000,
        ),
      );
      expect(sim.truth(1, today, now + 3_600_000)).not.toEqual(initial);
    });

    it('keeps the fault modes and the pinned answers', async () => {
      await post('/__sim/changes', {});
      await post('/__sim/faults', { failNext: 1 });
      expect((await get(`/api/v1/inventory/1?date=${today}`)).status).toBe(500);
      await post('/__sim/inventory', { productId: 1, date: today, slots: [] });
      expect(await (await get(`/api/v1/inventory/1?date=${today}`)).json()).toEqual([]);
      expect((await truth(`date=${today}`)).slots).toEqual([]);
    });

    it('refuses bad parameters and bad truth queries with a 400 or 404, and turns off', async () => {
      expect((await post('/__sim/changes', { ratePerHour: -1 })).status).toBe(400);
      expect((await post('/__sim/changes', { saleShare: 0.9, cancelShare: 0.2 })).status).toBe(400);
      expect((await post('/__sim/changes', { halfLifeDays: 0 })).status).toBe(400);
      expect((await fetch(`${url}/__sim/truth/1?date=2025-4-3`)).status).toBe(400);
      expect((await fetch(`${url}/__sim/truth/1?date=2025-04-03&at=x`)).status).toBe(400);
      expect((await fetch(`${url}/__sim/truth/999999?date=2025-04-03`)).status).toBe(404);
      await post('/__sim/changes', {});
      await post('/__sim/changes', { enabled: false });
      expect(sim.getChangeModel()).toBeNull();
    });
  });

  it('answers 503 to everything during an outage, or resets connections', async () => {
    sim.setFaults({ outage: true });
    expect((await get('/api/v1/inventory/14?date=2025-04-03')).status).toBe(503);
    sim.setFaults({ outage: 'refuse' });
    await expect(get('/api/v1/inventory/14?date=2025-04-03')).rejects.toThrow();
    expect(sim.stats().byStatus).toEqual({ '503': 1, '0': 1 });
  });

  it('keeps a sliding window per key when it accepts several keys, and can reject one of them', async () => {
    const multi = new PartnerSimulator({
      rateLimit: 2,
      windowMs: 600,
      apiKey: ['sim-key-one-123', 'sim-key-two-456'],
    });
    const base = await multi.start();
    const call = async (key: string) => {
      const res = await fetch(`${base}/api/v1/inventory/14?date=2025-04-03`, {
        headers: { 'x-api-key': key },
      });
      await res.arrayBuffer();
      return res.status;
    };
    try {
      const one = [await call('sim-key-one-123'), await call('sim-key-one-123')];
      expect(await call('sim-key-one-123')).toBe(429);
      // The second key's budget is untouched by the first key's.
      const two = [await call('sim-key-two-456'), await call('sim-key-two-456')];
      expect([...one, ...two]).toEqual([200, 200, 200, 200]);
      expect(await call('sim-key-three-789')).toBe(401);
      multi.setFaults({ rejectKeys: [1] });
      expect(await call('sim-key-two-456')).toBe(401);
      const stats = multi.stats();
      expect(stats.keys.map((k) => k.byStatus)).toEqual([
        { '200': 2, '429': 1 },
        { '200': 2, '401': 1 },
      ]);
      expect(stats.keys.map((k) => k.busiestWindow)).toEqual([3, 2]);
      expect(stats.busiestWindow).toBe(3);
      multi.spendBudget(2, 1);
      expect(multi.stats().keys[1]).toMatchObject({ foreign: 2, inWindowNow: 4 });
    } finally {
      await multi.stop();
    }
  });
});
