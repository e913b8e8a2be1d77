import { Client } from 'pg';
import { inventoryHash } from '../src/inventory/sync/inventory-diff';
import type { PartnerInventory } from '../src/partner/partner.types';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';
import { QUIET_CRONS } from './support/default-crons';

const API_KEY = 'sync-crash-partner-key-0123456789';
const PRODUCT_DATES = 2 * 60; // products 14 and 15, days 0..59

/**
 * Every product-date is either untouched (no sync record with a hash, no slots) or exactly what
 * one partner answer said: the stored slots and pax hash to the recorded content_hash.
 */
async function inconsistentProductDates(db: Client): Promise<string[]> {
  const { rows: syncs } = await db.query<{
    product_id: number;
    date: string;
    content_hash: string | null;
    slot_count: number;
  }>(
    `SELECT product_id, to_char(date, 'YYYY-MM-DD') AS date, content_hash, slot_count FROM product_date_syncs`,
  );
  const { rows: slots } = await db.query<{
    product_id: number;
    date: string;
    provider_slot_id: string;
    start_time: string;
    end_time: string;
    variant_id: number;
    remaining: number;
    currency_code: string;
    pax: PartnerInventory[number]['paxAvailability'] | null;
  }>(`
    SELECT s.product_id, to_char(s.date, 'YYYY-MM-DD') AS date, s.provider_slot_id, s.start_time, s.end_time,
           s.variant_id, s.remaining, s.currency_code,
           (SELECT json_agg(json_build_object(
              'type', p.type, 'name', p.name, 'description', p.description, 'min', p.min, 'max', p.max,
              'remaining', p.remaining, 'isPrimary', p.is_primary, 'finalPrice', p.final_price::text,
              'originalPrice', p.original_price::text, 'discount', p.discount::text,
              'currencyCode', p.currency_code) ORDER BY p.position)
              FROM pax_availability p WHERE p.slot_id = s.id) AS pax
      FROM slots s`);
  const stored = new Map<string, PartnerInventory>();
  for (const s of slots) {
    const key = `${s.product_id}:${s.date}`;
    stored.set(key, [
      ...(stored.get(key) ?? []),
      {
        startDate: s.date,
        startTime: s.start_time,
        endTime: s.end_time,
        providerSlotId: s.provider_slot_id,
        remaining: s.remaining,
        currencyCode: s.currency_code,
        variantId: s.variant_id,
        paxAvailability: s.pax ?? [],
      },
    ]);
  }
  const bad: string[] = [];
  const recorded = new Set<string>();
  for (const sync of syncs) {
    const key = `${sync.product_id}:${sync.date}`;
    if (sync.content_hash === null) continue;
    recorded.add(key);
    const inv = stored.get(key) ?? [];
    if (inv.length !== sync.slot_count || inventoryHash(inv) !== sync.content_hash) bad.push(key);
  }
  for (const key of stored.keys())
    if (!recorded.has(key)) bad.push(`${key} (slots without a recorded sync)`);
  return bad;
}

describe('a sync process killed with SIGKILL', () => {
  let db: TestDatabase;
  let pg: Client;
  let sim: PartnerSimulator;
  let service: ServiceProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase('inv_synccrash');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    // Slow answers keep many syncs in flight, so the kill lands in the middle of the work.
    sim = new PartnerSimulator({ rateLimit: 200, windowMs: 1000, apiKey: API_KEY });
    sim.setFaults({ latencyMs: 150 });
    env = {
      DATABASE_URL: db.url,
      PARTNER_API_URL: await sim.start(0),
      PARTNER_API_KEY: API_KEY,
      PARTNER_RATE_LIMIT: '200',
      PARTNER_RATE_WINDOW_MS: '1000',
      PARTNER_MAX_CONCURRENCY: '6',
      SYNC_PRODUCT_IDS: '14,15',
      SYNC_ON_BOOT: 'true',
      ...QUIET_CRONS,
      LOG_LEVEL: 'info',
      // The killed leader's lease must lapse before the next start may sync: keep it short.
      LEADER_LEASE_MS: '2000',
    };
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await pg?.end();
    await sim?.stop();
    await db?.drop();
  });

  const synced = async (): Promise<number> =>
    Number(
      (
        await pg.query<{ n: string }>(
          'SELECT count(*) AS n FROM product_date_syncs WHERE last_success_at IS NOT NULL',
        )
      ).rows[0].n,
    );

  const due = async (): Promise<number> =>
    Number(
      (
        await pg.query<{ n: string }>(
          'SELECT count(*) AS n FROM product_date_syncs WHERE due_since IS NOT NULL',
        )
      ).rows[0].n,
    );

  it('leaves every product-date fully old or fully new, and the next start finishes the work from the due list alone', async () => {
    service = await startServiceProcess(env, ['--demo']);
    const first = service;
    await until(
      'the boot catch-up to be under way',
      async () => {
        const n = await synced();
        return n >= 10 && n < PRODUCT_DATES - 20;
      },
      20000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output().slice(-3000)}`);
    });
    service.child.kill('SIGKILL');
    await service.exited;
    const afterKill = await synced();
    expect(afterKill).toBeLessThan(PRODUCT_DATES);
    expect(await inconsistentProductDates(pg)).toEqual([]);
    // What the killed process had not stored is still in the due list: nothing was lost.
    expect(await due()).toBe(PRODUCT_DATES - afterKill);

    // No catch-up at the next start: the due list alone finishes the work.
    service = await startServiceProcess({ ...env, SYNC_ON_BOOT: 'false' }, ['--demo']);
    const second = service;
    await until(
      'every product-date to be synced',
      async () => (await synced()) === PRODUCT_DATES,
      25000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message} (${await synced()})\n${second.output().slice(-4000)}`);
    });
    expect(await due()).toBe(0);
    expect(await inconsistentProductDates(pg)).toEqual([]);
    await service.stop('SIGTERM');
    service = undefined;
  }, 120_000);
});
