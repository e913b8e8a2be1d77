/**
 * A sync run whose every change must reach a webhook receiver once after dedup, in order per
 * product-date (the resilience suites: a leader killed, a database restart).
 */
import { Client } from 'pg';
import { addDays, todayIn } from '../../src/inventory/calendar';
import { PartnerSimulator } from '../../src/partner/simulator/partner-simulator';
import { bigInventory } from '../../src/partner/simulator/simulator-data';
import { NEVER_CRON } from './default-crons';
import { startServiceProcess, type ServiceProcess } from './service-process';
import { until } from './until';
import { Receiver } from './webhook-receiver';

export const API_KEY = 'webhooks-resilience-partner-key-0123456789';
export const ADMIN_TOKEN = 'webhooks-resilience-admin-token-0123456789';
const PRODUCTS = [14, 15];
const DAYS = 7;
/**
 * A delivery claimed by an instance that died (or could not record its answer) is sent again once
 * its claim lapses: WEBHOOK_TIMEOUT_MS + 30 s (webhook-delivery.service's lease margin).
 */
const TIMEOUT_MS = 2000;
const REDELIVERY_WAIT_MS = TIMEOUT_MS + 30_000 + 15_000;

/**
 * The sync as it runs: the service (dist/main.js, a real process) syncs today..+6 of two products
 * from the partner simulator every 2 s, while the test changes the simulator's seats of a random
 * product-date every 150 ms: each change the sync picks up is an event.
 */
export function serviceEnv(
  databaseUrl: string,
  partnerUrl: string,
  id: string,
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    PARTNER_API_URL: partnerUrl,
    PARTNER_API_KEY: API_KEY,
    PARTNER_RATE_LIMIT: '100',
    PARTNER_RATE_WINDOW_MS: '1000',
    ADMIN_TOKEN,
    INSTANCE_ID: id,
    LEADER_LEASE_MS: '2000',
    SYNC_PRODUCT_IDS: PRODUCTS.join(','),
    SYNC_ON_BOOT: 'false',
    SYNC_CRON_FOUR_HOURLY: '*/2 * * * * *',
    SYNC_CRON_DAILY: NEVER_CRON,
    SYNC_CRON_QUARTER_HOURLY: NEVER_CRON,
    SYNC_CRON_EXTENDED: NEVER_CRON,
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    WEBHOOK_RETRY_BASE_MS: '100',
    DATABASE_POOL_SIZE: '4',
    LOG_LEVEL: 'info',
  };
}

/**
 * Pins every product-date's answer on the simulator (its own data moves with time; here only the
 * test changes anything), then changes one random product-date's seats every 150 ms until stopped.
 */
export function changeSeats(sim: PartnerSimulator, today: string): { start(): void; stop(): void } {
  let seats = 1000;
  let n = 0;
  const pin = (productId: number, date: string): void => {
    const slots = bigInventory(productId, date, 3);
    for (const s of slots) {
      s.remaining = seats;
      for (const p of s.paxAvailability) p.remaining = seats;
    }
    sim.setInventory(productId, date, slots);
  };
  for (const p of PRODUCTS) {
    for (let d = 0; d < DAYS; d++) pin(p, addDays(today, d));
    // The later days the service also syncs (the overdue rule) answer no slots: no event.
    for (let d = DAYS; d < 62; d++) sim.setInventory(p, addDays(today, d), []);
  }
  let timer: NodeJS.Timeout | undefined;
  return {
    start: () => {
      timer = setInterval(() => {
        seats--;
        pin(PRODUCTS[n++ % PRODUCTS.length], addDays(today, Math.floor(Math.random() * DAYS)));
      }, 150);
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * The sync starts paused (the cluster-wide switch, stored), so that every event of the run comes
 * after the subscription: resumed once it exists.
 */
export async function pauseSync(databaseUrl: string): Promise<void> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO sync_control (id, paused, changed_by, reason) VALUES (1, true, 'test', 'until subscribed')
       ON CONFLICT (id) DO UPDATE SET paused = true`,
    );
  } finally {
    await c.end();
  }
}

export async function api(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const r = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path} answered ${r.status}`);
  return (await r.json()) as Record<string, unknown>;
}

export interface FeedEvent {
  cursor: string;
  productId: number;
  date: string;
}

/**
 * Every event of the run, from the feed's own table, once the run is over: a sync run that began
 * after the last change finished (it picked up every change), and every event was published.
 */
export async function eventsOfTheRun(
  baseUrl: string,
  databaseUrl: string,
  lastChangeAt: number,
): Promise<FeedEvent[]> {
  await until('a sync run begun after the last change to finish', async () => {
    const r = await fetch(`${baseUrl}/api/v1/experience/sync/status`);
    const status = (await r.json()) as {
      recentRuns: Array<{ startedAt: string; finishedAt: string | null; outcome: string }>;
    };
    return status.recentRuns.some(
      (run) => Date.parse(run.startedAt) > lastChangeAt && run.finishedAt && run.outcome === 'ok',
    );
  });
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await until('every event published', async () => {
      const r = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM change_events WHERE position IS NULL',
      );
      return r.rows[0].n === 0;
    });
    const r = await c.query<FeedEvent>(
      `SELECT position::text AS cursor, product_id AS "productId", to_char(date, 'YYYY-MM-DD') AS date
         FROM change_events ORDER BY position`,
    );
    return r.rows;
  } finally {
    await c.end();
  }
}

/**
 * The bar: after deduplicating by webhook-id the receiver saw every event of the run
 * exactly once (none missing, none unknown), each product-date's in the order of its versions,
 * and no message failed verification.
 */
export function expectEveryChangeOnceInOrder(
  receiver: Receiver,
  events: FeedEvent[],
): Promise<void> {
  expect(events.length).toBeGreaterThan(10);
  const missing = () => events.filter((e) => !receiver.seen.has(`evt_${e.cursor}`)).length;
  return until(
    () => `every event delivered (${missing()} of ${events.length} missing)`,
    () => missing() === 0,
    REDELIVERY_WAIT_MS,
    200,
  ).then(() => {
    expect(receiver.accepted.map((m) => m.id).sort()).toEqual(
      events.map((e) => `evt_${e.cursor}`).sort(),
    );
    const byProductDate = new Map<string, bigint[]>();
    for (const m of receiver.accepted) {
      const key = `${m.data.productId} ${m.data.date}`;
      byProductDate.set(key, [...(byProductDate.get(key) ?? []), BigInt(m.data.version!)]);
    }
    for (const [key, versions] of byProductDate) {
      const sorted = [...versions].sort((a, b) => (a < b ? -1 : 1));
      expect({ key, versions }).toEqual({ key, versions: sorted });
    }
    expect(receiver.rejected).toBe(0);
  });
}

/** Subscribes the receiver, then resumes the sync paused by pauseSync. */
export async function subscribeAndResume(baseUrl: string, receiver: Receiver): Promise<void> {
  const created = await api(baseUrl, 'POST', '/api/v1/webhooks', {
    url: `${receiver.url}/hook`,
    productIds: PRODUCTS,
  });
  receiver.secret = created.secret as string;
  await api(baseUrl, 'POST', '/api/v1/experience/sync/resume', {});
}

/** Waits until the run has produced and delivered `n` more events. */
export const moreDelivered = (receiver: Receiver, n: number) => {
  const target = receiver.accepted.length + n;
  return until(
    () => `${n} more events delivered (have ${receiver.accepted.length}, want ${target})`,
    () => receiver.accepted.length >= target,
    30_000,
  );
};

/** What a resilience suite reaches through useWebhookRun(), inside its tests. */
export interface WebhookRun {
  /** The consumer, listening before the suite's tests. */
  readonly receiver: Receiver;
  /**
   * Starts the run on `databaseUrl`: the simulator's answers pinned, the sync paused, the first
   * service (instance `id`) started, the receiver subscribed, the sync resumed, the seats changing.
   */
  start(databaseUrl: string, id: string): Promise<ServiceProcess>;
  /** One more service (instance `id`) on the run's database and partner. */
  startService(id: string): Promise<ServiceProcess>;
  /** Stops changing seats, then holds the run to the bar, its events read via `service`. */
  expectEveryChangeOnceInOrder(service: ServiceProcess): Promise<void>;
}

/**
 * The lifecycle the resilience suites share, as Jest hooks of the calling describe: the receiver
 * and the partner simulator; after the tests the seats stop changing, every service started is
 * killed, the simulator and the receiver close. The database is the suite's own: declared after
 * this call, its afterAll runs after these (Jest runs them in the order declared), once no
 * service is left to use it.
 */
export function useWebhookRun(): WebhookRun {
  const receiver = new Receiver();
  const sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
  const services: ServiceProcess[] = [];
  let run:
    | { databaseUrl: string; partnerUrl: string; changes: ReturnType<typeof changeSeats> }
    | undefined;
  beforeAll(() => receiver.start());
  afterAll(async () => {
    run?.changes.stop();
    for (const s of services) await s.stop('SIGKILL');
    await sim.stop();
    await receiver.close();
  });
  const started = () => {
    if (!run) throw new Error('the webhook run is used before start()');
    return run;
  };
  const startService = async (id: string): Promise<ServiceProcess> => {
    const { databaseUrl, partnerUrl } = started();
    const service = await startServiceProcess(serviceEnv(databaseUrl, partnerUrl, id), []);
    services.push(service);
    return service;
  };
  return {
    receiver,
    async start(databaseUrl, id) {
      const partnerUrl = await sim.start(0);
      run = { databaseUrl, partnerUrl, changes: changeSeats(sim, todayIn('UTC', new Date())) };
      await pauseSync(databaseUrl);
      const first = await startService(id);
      await subscribeAndResume(first.baseUrl, receiver);
      run.changes.start();
      return first;
    },
    startService,
    async expectEveryChangeOnceInOrder(service) {
      const { databaseUrl, changes } = started();
      changes.stop();
      const events = await eventsOfTheRun(service.baseUrl, databaseUrl, Date.now());
      await expectEveryChangeOnceInOrder(receiver, events);
    },
  };
}
