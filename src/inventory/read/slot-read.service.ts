import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { DatabaseOutageReporter, isDatabaseUnavailable } from '../../common/database-unavailable';
import { DomainError } from '../../common/domain-error';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { addMonths, todayIn } from '../calendar';
import { ReadDemandService } from '../learning/read-demand.service';
import { cachedRead, ReadCache, type CachedRead, type ReadKey } from './read-cache';
import { SlotAnswersRepository } from './slot-answers.repository';
import { buildDates, type DatePriceRow } from './slot-shape';
import { slotsJson } from './slots-json';
import { withoutPastDates } from './stale-dates';

/** The product is not one this service keeps in sync, so there is nothing to read about it. */
export class ProductNotFoundError extends DomainError {
  readonly httpStatus = 404;

  constructor(readonly productId: number) {
    super(`product ${productId} is not one of the products this service keeps in sync`);
  }
}

/** How far the dates query reaches: today .. today + 2 months (inclusive); the sync stores today .. +59. */
export const DATES_HORIZON_MONTHS = 2;

/**
 * The slots of one product-date as the API's JSON text built live from its rows (`slotsJson`),
 * with the product-date's last sync (for Last-Modified), in one round trip. The fallback of a
 * product-date without a stored answer (never synced, or not since slot_answers was added).
 * Exported so the benchmark can EXPLAIN ANALYZE exactly what the service runs.
 */
export function slotsQuery(productId: number, date: string): Prisma.Sql {
  return Prisma.sql`
    SELECT (SELECT pds.last_success_at FROM product_date_syncs pds
             WHERE pds.product_id = ${productId}::int AND pds.date = ${date}::date) AS "lastSuccessAt",
           ${slotsJson(productId, date)} AS "body"`;
}

/**
 * The dates of one product in one query for the whole range: each slot's price (primary pax,
 * else the first), then per date the cheapest slot that still has seats.
 * Exported so the benchmark can EXPLAIN ANALYZE exactly what the service runs.
 */
export function datesQuery(productId: number, from: string, to: string): Prisma.Sql {
  return Prisma.sql`
    WITH slot_price AS (
      SELECT DISTINCT ON (s.id) s.date, s.start_time, p.final_price, p.original_price,
             p.discount, p.currency_code
      FROM slots s
      JOIN pax_availability p ON p.slot_id = s.id
      WHERE s.product_id = ${productId}::int AND s.date BETWEEN ${from}::date AND ${to}::date
        AND s.remaining > 0
      ORDER BY s.id, p.is_primary DESC, p.position ASC
    )
    SELECT DISTINCT ON (sp.date) to_char(sp.date, 'YYYY-MM-DD') AS "date",
           sp.final_price::text AS "finalPrice", sp.original_price::text AS "originalPrice",
           sp.discount::text AS "discount", sp.currency_code AS "currencyCode",
           (SELECT max(last_success_at) FROM product_date_syncs
             WHERE product_id = ${productId}::int AND date BETWEEN ${from}::date AND ${to}::date
           ) AS "lastSuccessAt"
    FROM slot_price sp
    ORDER BY sp.date, sp.final_price ASC, sp.start_time ASC`;
}

/**
 * Answers the read API from the database (never the partner), through the read cache. Each answer
 * is serialised once and stored as bytes with its ETag, so a cache hit costs no JSON work. When the
 * database cannot answer, the last good answer for the key is served marked stale (RFC 5861's
 * stale-if-error); without one, the error goes on to the filter (503 database unavailable).
 */
@Injectable()
export class SlotReadService {
  private readonly products: ReadonlySet<number>;
  private readonly timeZone: string;
  /** todayIn() builds an Intl formatter per call; the day only changes on a whole second. */
  private todayMemo = { second: Number.NaN, today: '' };

  constructor(
    private readonly prisma: PrismaService,
    private readonly answers: SlotAnswersRepository,
    private readonly cache: ReadCache,
    private readonly clock: Clock,
    @InjectConfig() config: AppConfig,
    private readonly outage: DatabaseOutageReporter,
    private readonly demand: ReadDemandService,
  ) {
    this.products = new Set(config.sync.productIds);
    this.timeZone = config.sync.timeZone;
  }

  /** Slot[] of a product on a date (YYYY-MM-DD, already validated), by start time. */
  async slots(productId: number, date: string): Promise<CachedRead> {
    this.assertKnown(productId);
    // Before the cache: the value rule ranks by the reads served, not the ones that missed it.
    this.demand.count(productId, date, this.today());
    return this.read({ kind: 'slots', productId, date }, () => this.loadSlots(productId, date));
  }

  /** { dates } with seats left from today (in SYNC_TIMEZONE) to today + 59 (all the sync stores). */
  async dates(productId: number): Promise<CachedRead> {
    this.assertKnown(productId);
    const today = this.today();
    return this.read({ kind: 'dates', productId, today }, () =>
      this.loadDates(productId, today, addMonths(today, DATES_HORIZON_MONTHS)),
    );
  }

  private async read(key: ReadKey, load: () => Promise<CachedRead>): Promise<CachedRead> {
    try {
      return await this.cache.getOrLoad(key, load);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const copy = await this.cache.lastGood(key).catch(() => null);
      if (!copy) throw err;
      this.outage.report('read api (served stale)', err);
      const stale = { ...copy, stale: true };
      return key.kind === 'dates' ? withoutPastDates(stale, key.today) : stale;
    }
  }

  private today(): string {
    const now = this.clock.now();
    const second = Math.floor(now.getTime() / 1000);
    if (this.todayMemo.second !== second) {
      this.todayMemo = { second, today: todayIn(this.timeZone, now) };
    }
    return this.todayMemo.today;
  }

  private assertKnown(productId: number): void {
    if (!this.products.has(productId)) throw new ProductNotFoundError(productId);
  }

  /**
   * The answer the sync stored with the product-date's rows (primary-key lookups, in one
   * statement with concurrent reads); built live from the rows when none is stored, which also
   * answers '[]' for a date never synced.
   */
  private async loadSlots(productId: number, date: string): Promise<CachedRead> {
    const stored = await this.answers.find(productId, date);
    if (stored) return cachedRead(stored.body, stored.lastSuccessAt, this.clock.now());
    const [row] = await this.prisma.queryPrepared<{ body: string; lastSuccessAt: Date | null }>(
      'read-slots',
      slotsQuery(productId, date),
    );
    return cachedRead(row.body, row.lastSuccessAt, this.clock.now());
  }

  private async loadDates(productId: number, from: string, to: string): Promise<CachedRead> {
    const rows = await this.prisma.queryPrepared<DatePriceRow & { lastSuccessAt: Date | null }>(
      'read-dates',
      datesQuery(productId, from, to),
    );
    return cachedRead(
      JSON.stringify(buildDates(rows)),
      rows[0]?.lastSuccessAt ?? null,
      this.clock.now(),
    );
  }
}
