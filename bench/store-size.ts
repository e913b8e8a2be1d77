/**
 * Cost of storing one product-date against its size: 100, 1,000, 2,500 and 5,000 slots of 3 pax,
 * on PostgreSQL (a fresh database on TEST_DATABASE_ADMIN_URL, default 127.0.0.1:5432) and on the
 * embedded PGlite, through ProductDateStore.store() (one transaction, advisory lock, the real SQL).
 *
 *   npm run bench -- store-size [sizes, default 100,1000,2500,5000] [repeats, default 3]
 *
 * Per size and database, the median of `repeats` runs (each on a fresh date) of:
 *   first    every slot and pax row inserted
 *   same     the same answer again: nothing written
 *   change   one price and one seat count changed
 *   shrink   a tenth of the slots gone (deleted with their pax)
 * and µs per slot of the first store, whose ratio across sizes shows whether the cost is linear.
 * Each run is made twice, one after the other: with the answer rendered into slot_answers (the
 * store as it is) and without (a repository that writes nothing: the store before slot_answers),
 * so the cost of the answer shows side by side; and a third time with the answer but without
 * the change feed's event (its diff and insert), so the event's cost shows too. Prints a
 * Markdown table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/app-config';
import { EmbeddedPostgres } from '../src/core/database/embedded-postgres';
import { migrate, readMigrations } from '../src/core/database/migrator';
import { PrismaService } from '../src/core/prisma.service';
import { ChangeObservationsRepository } from '../src/inventory/accuracy/change-observations.repository';
import { addDays } from '../src/inventory/calendar';
import { DueListRepository } from '../src/inventory/due/due-list.repository';
import { SlotAnswersRepository } from '../src/inventory/read/slot-answers.repository';
import { ProductDateStore } from '../src/inventory/sync/product-date-store';
import { ChangeEventsRepository } from '../src/inventory/changes/change-events.repository';
import { parsePartnerInventory } from '../src/partner/partner-payload';
import type { Prisma } from '../src/generated/prisma/client';
import type { PartnerInventory } from '../src/partner/partner.types';
import { bigInventory } from '../src/partner/simulator/simulator-data';
import { createBenchDatabase } from './_seed-read-data';
import { median } from './_stats';

const sizes = (process.argv[2] ?? '100,1000,2500,5000').split(',').map(Number);
const repeats = Number(process.argv[3] ?? 3);
const PRODUCT = 14;

interface Figures {
  first: number;
  same: number;
  change: number;
  shrink: number;
}

/** The store before the change feed: no event diffed or written. */
class NoChangeEvents extends ChangeEventsRepository {
  override recordInTransaction(_tx: Prisma.TransactionClient): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/** The store before slot_answers: no answer rendered. */
class NoAnswers extends SlotAnswersRepository {
  override storeInTransaction(_tx: Prisma.TransactionClient): Promise<boolean> {
    return Promise.resolve(false);
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function answer(date: string, slots: number): PartnerInventory {
  return parsePartnerInventory(bigInventory(PRODUCT, date, slots), date);
}

async function measure(sync: ProductDateStore, size: number, date: string): Promise<Figures> {
  const inventory = answer(date, size);
  const changed = structuredClone(inventory);
  changed[0].paxAvailability[0].finalPrice = '199.99';
  changed[size - 1].remaining += 1;
  const shrunk = changed.slice(0, size - Math.max(1, Math.floor(size / 10)));
  const check = async (p: Promise<boolean>, expected: boolean): Promise<void> => {
    if ((await p) !== expected) throw new Error(`store of ${size} slots: expected ${expected}`);
  };
  return {
    first: await timed(() => check(sync.store(PRODUCT, date, inventory), true)),
    same: await timed(() => check(sync.store(PRODUCT, date, inventory), false)),
    change: await timed(() => check(sync.store(PRODUCT, date, changed), true)),
    shrink: await timed(() => check(sync.store(PRODUCT, date, shrunk), true)),
  };
}

async function run(label: string, url: string, poolSize: number): Promise<string[]> {
  const prisma = new PrismaService({ url, poolSize, kind: 'postgresql' });
  await prisma.$connect();
  await prisma.product.create({ data: { id: PRODUCT } });
  const dueList = new DueListRepository(prisma);
  const learning = { learning: loadConfig({}, 'demo').learning };
  const stores = [
    {
      answer: 'rendered',
      store: new ProductDateStore(
        prisma,
        dueList,
        new SlotAnswersRepository(prisma),
        new ChangeObservationsRepository(prisma),
        new ChangeEventsRepository(prisma),
        learning,
      ),
    },
    {
      answer: 'rendered, no change event',
      store: new ProductDateStore(
        prisma,
        dueList,
        new SlotAnswersRepository(prisma),
        new ChangeObservationsRepository(prisma),
        new NoChangeEvents(prisma),
        learning,
      ),
    },
    {
      answer: 'none (before)',
      store: new ProductDateStore(
        prisma,
        dueList,
        new NoAnswers(prisma),
        new ChangeObservationsRepository(prisma),
        new ChangeEventsRepository(prisma),
        learning,
      ),
    },
  ];
  const rows: string[] = [];
  let day = 0;
  try {
    // Warm-up: connections, prepared plans and the JIT of this process.
    for (const { store } of stores) await measure(store, 100, addDays('2030-01-01', day++));
    for (const size of sizes) {
      const runs = new Map<string, Figures[]>(stores.map((s) => [s.answer, []]));
      try {
        for (let i = 0; i < repeats; i++) {
          for (const { answer, store } of stores) {
            runs.get(answer)!.push(await measure(store, size, addDays('2030-01-01', day++)));
          }
        }
      } catch (err) {
        // A store that cannot cope is a result too (the old per-row store past 2,000 slots).
        const reason = (err instanceof Error ? err.message : String(err)).trim().split('\n').pop();
        rows.push(
          `| ${label} | | ${size.toLocaleString('en')} | ${(size * 3).toLocaleString('en')} | failed: ${reason?.slice(0, 120)} | | | | |`,
        );
        console.error(rows[rows.length - 1]);
        continue;
      }
      for (const [answer, figures] of runs) {
        const m = (k: keyof Figures): number => median(figures.map((r) => r[k]));
        rows.push(
          `| ${label} | ${answer} | ${size.toLocaleString('en')} | ${(size * 3).toLocaleString('en')} | ${m('first').toFixed(0)} | ${m('same').toFixed(0)} | ${m('change').toFixed(0)} | ${m('shrink').toFixed(0)} | ${((m('first') * 1000) / size).toFixed(0)} |`,
        );
        console.error(rows[rows.length - 1]);
      }
    }
  } finally {
    await prisma.onModuleDestroy();
  }
  return rows;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const db = await createBenchDatabase();
  try {
    rows.push(...(await run('PostgreSQL 15', db.url, 4)));
  } finally {
    await db.drop();
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'store-size-'));
  const embedded = await EmbeddedPostgres.start(dir);
  try {
    await migrate(
      embedded.connectionString,
      readMigrations(path.join(process.cwd(), 'prisma', 'migrations')),
    );
    rows.push(...(await run('PGlite (embedded)', embedded.connectionString, 1)));
  } finally {
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    [
      `Store of one product-date, median of ${repeats} (ms; Node ${process.version}, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '| database | answer | slots | pax rows | first | same | change | shrink | µs/slot (first) |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
