/**
 * What the change feed costs and how fast it pushes, on PostgreSQL (fresh databases on
 * TEST_DATABASE_ADMIN_URL, default 127.0.0.1:5432):
 *
 *   npm run bench -- change-feed [read seconds per phase, default 10] [latency samples, default 300]
 *
 * 1. The store path: product-dates of 9 slots × 3 pax, each store a change (seats), 4 stores at
 *    once (a leader's in-flight fetches), through ProductDateStore with the outbox (every store
 *    writes one event) and with a store that writes no event, in rounds with, without, without,
 *    with (drift on the shared machine cancels out of the means). Stores per second of each, and
 *    the events written per second (counted in change_events afterwards).
 * 2. Commit → webhook: the service as createApp builds it, in this process, with one subscription
 *    to a receiver process (answers 204); stores at 20 per second, each a change of its own
 *    product-date. Latency from store() resolving (its transaction committed) to the receiver
 *    reading the message, p50/p99/max.
 * 3. The read path: random slots reads (wrk, 50 connections: the service saturated) for the given
 *    seconds while stores change up to 20 product-dates a second, without a subscription, with
 *    one receiving every event, with, without, twice (means of each); reads p50/p99 and the
 *    ratio with ÷ without.
 * Prints Markdown tables.
 */
import { spawn } from 'node:child_process';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import { PrismaService } from '../src/core/prisma.service';
import type { Prisma } from '../src/generated/prisma/client';
import { ChangeObservationsRepository } from '../src/inventory/accuracy/change-observations.repository';
import { addDays, todayIn } from '../src/inventory/calendar';
import { ChangeEventsRepository } from '../src/inventory/changes/change-events.repository';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { SlotAnswersRepository } from '../src/inventory/read/slot-answers.repository';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { parsePartnerInventory } from '../src/partner/partner-payload';
import type { PartnerInventory } from '../src/partner/partner.types';
import { bigInventory } from '../src/partner/simulator/simulator-data';
import { load, loadTool, type LoadResult } from './_http-load';
import { createBenchDatabase, seedReadData } from './_seed-read-data';

const readSeconds = Number(process.argv[2] ?? 10);
const latencySamples = Number(process.argv[3] ?? 300);
const SLOTS = 9;
const STORE_CONCURRENCY = 4;
const STORE_DATES = 200;
const STORE_ROUNDS = 4;
const PRODUCTS = 50;
const DAYS = 7;
const STORES_PER_SECOND = 20;
const CONNECTIONS = 50;
const TOKEN = 'change-feed-bench-admin-token-0123456789';
const NEVER = '0 0 1 1 *';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** The store before the change feed: no event diffed or written. */
class NoChangeEvents extends ChangeEventsRepository {
  override recordInTransaction(_tx: Prisma.TransactionClient): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/** An answer whose seats differ with `seats`: every store of it after another is a change. */
function answer(productId: number, date: string, seats: number): PartnerInventory {
  const inventory = parsePartnerInventory(bigInventory(productId, date, SLOTS), date);
  for (const slot of inventory) {
    slot.remaining = seats;
    for (const pax of slot.paxAvailability) pax.remaining = seats;
  }
  return inventory;
}

/** Runs `fn` over `items`, `concurrency` at a time. */
async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function storePath(): Promise<string[]> {
  const db = await createBenchDatabase();
  const prisma = new PrismaService({
    url: db.url,
    poolSize: STORE_CONCURRENCY,
    kind: 'postgresql',
  });
  try {
    await prisma.$connect();
    await prisma.product.create({ data: { id: 14 } });
    const learning = { learning: loadConfig({}, 'demo').learning };
    const store = (events: ChangeEventsRepository) =>
      new ProductDateStore(
        prisma,
        new DueListRepository(prisma),
        new SlotAnswersRepository(prisma),
        new ChangeObservationsRepository(prisma),
        events,
        learning,
      );
    const variants = {
      with: store(new ChangeEventsRepository(prisma)),
      without: store(new NoChangeEvents(prisma)),
    };
    const dates = Array.from({ length: STORE_DATES }, (_, i) => addDays('2030-01-01', i));
    let seats = 100;
    const round = async (which: keyof typeof variants): Promise<number> => {
      seats--;
      const s = seats;
      const t0 = performance.now();
      await pool(dates, STORE_CONCURRENCY, async (d) => {
        if (!(await variants[which].store(14, d, answer(14, d, s)))) throw new Error('no change');
      });
      return (dates.length * 1000) / (performance.now() - t0);
    };
    await round('with'); // first stores insert every row; the rounds measured are changes
    await round('without');
    const perSecond = { with: [] as number[], without: [] as number[] };
    const eventsBefore = await prisma.changeEvent.count();
    let withMs = 0;
    for (let r = 0; r < STORE_ROUNDS; r++) {
      for (const which of r % 2 === 0
        ? (['with', 'without'] as const)
        : (['without', 'with'] as const)) {
        const rate = await round(which);
        perSecond[which].push(rate);
        if (which === 'with') withMs += (dates.length * 1000) / rate;
      }
    }
    const events = (await prisma.changeEvent.count()) - eventsBefore;
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const w = avg(perSecond.with);
    const wo = avg(perSecond.without);
    return [
      `Store path: ${STORE_DATES} product-dates × ${STORE_ROUNDS} rounds per variant, each store a change of ${SLOTS} slots × 3 pax, ${STORE_CONCURRENCY} at once (stores/s, mean of rounds)`,
      '',
      '| store | stores/s (each round) | events written/s | ratio |',
      '|---|---|---|---|',
      `| with the outbox | ${w.toFixed(0)} (${perSecond.with.map((x) => x.toFixed(0)).join(', ')}) | ${((events * 1000) / withMs).toFixed(0)} (${events} events) | ${(w / wo).toFixed(2)} |`,
      `| without (no event) | ${wo.toFixed(0)} (${perSecond.without.map((x) => x.toFixed(0)).join(', ')}) | 0 | 1.00 |`,
      '',
      `The outbox's cost per store: ${((STORE_CONCURRENCY * 1000) / w - (STORE_CONCURRENCY * 1000) / wo).toFixed(1)} ms (${STORE_CONCURRENCY} ÷ stores/s, with minus without).`,
    ];
  } finally {
    await prisma.onModuleDestroy();
    await db.drop();
  }
}

/**
 * The receiver, a process of its own (so it takes nothing from the service's event loop): answers
 * 204 and reports each message's product-date and arrival time (Unix ms, µs precision) by IPC.
 */
const RECEIVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    res.writeHead(204).end();
    const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    process.send({ productId: data.productId, date: data.date, at });
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
`;

async function startReceiver(
  onMessage: (key: string, at: number) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    child.on('message', (m: { port?: number; productId?: number; date?: string; at?: number }) => {
      if (m.port) resolve(m.port);
      else onMessage(`${m.productId} ${m.date}`, m.at!);
    });
  });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
    },
  };
}

/** Now on the clock the receiver reports in (Unix ms, µs precision). */
const now = (): number => performance.timeOrigin + performance.now();

async function serviceParts(): Promise<string[]> {
  const db = await createBenchDatabase();
  const today = todayIn('UTC', new Date());
  await seedReadData(db.url, { products: PRODUCTS, days: DAYS, slotsPerDay: SLOTS, from: today });
  const config = loadConfig(
    {
      NODE_ENV: 'production',
      ADMIN_TOKEN: TOKEN,
      DATABASE_URL: db.url,
      PARTNER_API_URL: 'http://127.0.0.1:9',
      PARTNER_API_KEY: 'bench-key',
      SYNC_ON_BOOT: 'false',
      SYNC_PRODUCT_IDS: Array.from({ length: PRODUCTS }, (_, i) => i + 1).join(','),
      SYNC_TIMEZONE: 'UTC',
      SYNC_CRON_DAILY: NEVER,
      SYNC_CRON_FOUR_HOURLY: NEVER,
      SYNC_CRON_QUARTER_HOURLY: NEVER,
      SYNC_CRON_EXTENDED: NEVER,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      LOG_LEVEL: 'warn',
      PORT: '0',
      HOST: '127.0.0.1',
    },
    'production',
  );
  const app = await createApp(config, false);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const store = app.get(ProductDateStore);
  // The store is fenced by the leader lease: wait until this instance holds it.
  for (let i = 0; ; i++) {
    const status = (await (await fetch(`${base}/api/v1/experience/sync/status`)).json()) as {
      instance: { leader: boolean };
    };
    if (status.instance.leader) break;
    if (i > 300) throw new Error('the service never became the leader');
    await sleep(100);
  }
  const pending = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  const receiver = await startReceiver((key, at) => {
    received++;
    const committed = pending.get(key);
    if (committed !== undefined) {
      latencies.push(at - committed);
      pending.delete(key);
    }
  });
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const subscribe = async (): Promise<string> =>
    (
      (await (await api('POST', '/api/v1/webhooks', { url: receiver.url })).json()) as {
        id: string;
      }
    ).id;
  const productDates = Array.from({ length: PRODUCTS * DAYS }, (_, i) => ({
    productId: 1 + (i % PRODUCTS),
    date: addDays(today, Math.floor(i / PRODUCTS)),
  }));
  let seats = 1000;
  /** Stores one change of each product-date in turn, STORES_PER_SECOND, until `stop()`. */
  const churn = (onCommit?: (key: string, at: number) => void) => {
    let stopped = false;
    let i = 0;
    const done = (async () => {
      const started = performance.now();
      while (!stopped) {
        const pd = productDates[i % productDates.length];
        if (i % productDates.length === 0) seats--;
        await store.store(pd.productId, pd.date, answer(pd.productId, pd.date, seats));
        onCommit?.(`${pd.productId} ${pd.date}`, now());
        i++;
        const due = started + (i * 1000) / STORES_PER_SECOND;
        await sleep(Math.max(0, due - performance.now()));
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await done;
        return i;
      },
    };
  };
  const lines: string[] = [];
  try {
    // 2. Commit → webhook.
    const sub = await subscribe();
    const latency = churn((key, at) => pending.set(key, at));
    const deadline = Date.now() + (latencySamples / STORES_PER_SECOND) * 1000 + 60_000;
    while (latencies.length < latencySamples && Date.now() < deadline) await sleep(100);
    await latency.stop();
    lines.push(
      `Commit → webhook delivery (one subscription, the receiver a process of its own, ${STORES_PER_SECOND} stores/s; ms)`,
      '',
      '| samples | p50 | p99 | max |',
      '|---|---|---|---|',
      `| ${latencies.length} | ${quantile(latencies, 0.5).toFixed(0)} | ${quantile(latencies, 0.99).toFixed(0)} | ${Math.max(...latencies).toFixed(0)} |`,
      '',
    );
    await api('DELETE', `/api/v1/webhooks/${sub}`);

    // 3. The read path, with the same stores going on, without and with a subscription.
    const traffic = {
      kind: 'slots' as const,
      products: PRODUCTS,
      dates: Array.from({ length: DAYS }, (_, i) => addDays(today, i)),
    };
    const read = () =>
      load({ url: base, traffic, seconds: readSeconds, connections: CONNECTIONS, threads: 2 });
    await load({ url: base, traffic, seconds: 3, connections: CONNECTIONS, threads: 2 }); // warm-up
    const results: Record<'without' | 'with', LoadResult[]> = { without: [], with: [] };
    const deliveredWith: number[] = [];
    for (const phase of [
      'without',
      'with',
      'with',
      'without',
      'without',
      'with',
      'with',
      'without',
    ] as const) {
      const id = phase === 'with' ? await subscribe() : null;
      const before = received;
      const stores = churn();
      results[phase].push(await read());
      const stored = await stores.stop();
      if (id) {
        deliveredWith.push(received - before);
        await api('DELETE', `/api/v1/webhooks/${id}`);
        if (received - before < stored / 2) throw new Error('the subscription did not receive');
      }
    }
    const avg = (r: LoadResult[], f: (x: LoadResult) => number) =>
      r.reduce((a, x) => a + f(x), 0) / r.length;
    const row = (name: string, r: LoadResult[]) =>
      `| ${name} | ${avg(r, (x) => x.reqPerSec).toFixed(0)} (${r.map((x) => x.reqPerSec.toFixed(0)).join(', ')}) | ${avg(r, (x) => x.p50Ms).toFixed(2)} | ${avg(r, (x) => x.p99Ms).toFixed(2)} (${r.map((x) => x.p99Ms.toFixed(1)).join(', ')}) | ${r.reduce((a, x) => a + x.non2xx + x.errors, 0)} |`;
    const p99 = (r: LoadResult[]) => avg(r, (x) => x.p99Ms);
    const medianP99 = (r: LoadResult[]) =>
      quantile(
        r.map((x) => x.p99Ms),
        0.5,
      );
    lines.push(
      `Read path: random slots reads (${loadTool}, ${CONNECTIONS} connections, ${readSeconds} s per phase, ${PRODUCTS} products × ${DAYS} days) while stores change up to ${STORES_PER_SECOND} product-dates a second; phases without, with, with, without, twice (means)`,
      '',
      '| subscription | req/s (each phase) | p50 ms | p99 ms (each phase) | errors |',
      '|---|---|---|---|---|',
      row('none', results.without),
      row(`one, receiving (${deliveredWith.join(' + ')} messages)`, results.with),
      '',
      `p99 with ÷ without: ${(p99(results.with) / p99(results.without)).toFixed(2)} (means), ${(medianP99(results.with) / medianP99(results.without)).toFixed(2)} (medians of the phases); p50: ${(avg(results.with, (x) => x.p50Ms) / avg(results.without, (x) => x.p50Ms)).toFixed(2)}; req/s: ${(avg(results.with, (x) => x.reqPerSec) / avg(results.without, (x) => x.reqPerSec)).toFixed(2)}`,
    );
  } finally {
    await app.close();
    await receiver.close();
    await db.drop();
  }
  return lines;
}

async function main(): Promise<void> {
  const lines = [
    `Change feed (Node ${process.version}, ${new Date().toISOString().slice(0, 10)})`,
    '',
    ...(await storePath()),
    '',
    ...(await serviceParts()),
  ];
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
