import { Injectable, Optional } from '@nestjs/common';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../../common/database-unavailable';
import { SharedReading, SharedReadings, type ComputeShareLimit } from '../../common/shared-reading';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DatabaseOutage } from '../../core/database/database-outage';
import { dateRange, todayIn } from '../calendar';
import { DueListRepository } from '../due/due-list.repository';
import { InventoryEvents } from '../inventory-events';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import { targetSecondsForDay, type SyncPolicy } from '../policy/sync-policy';
import { ProductNotFoundError } from '../read/slot-read.service';
import {
  FRESHNESS_CODES,
  FRESHNESS_STATES,
  freshnessBands,
  type FreshnessState,
} from './freshness';
import type { FreshnessMatrix } from './freshness-matrix';

/** Products per page of GET /sync/freshness when no `limit` is asked for, and at most. */
export const FRESHNESS_DEFAULT_LIMIT = 500;
export const FRESHNESS_MAX_LIMIT = 1000;
/**
 * How long one reading is answered again to every caller: a reading scans every product-date,
 * so however many pages are open (each asks every 10 s) the database does it at most this often.
 * A finished run drops it; a changed product-date shortens it (CHANGED_SHARE_MS).
 */
export const FRESHNESS_SHARE_MS = 10_000;
/**
 * After a product-date changed, a reading made before it is answered at most this long: a sync
 * shows on the next poll, and a sync changing many product-dates still costs one reading per
 * this time (status reads it too).
 */
export const CHANGED_SHARE_MS = 2000;
/**
 * The page's whole-table readings (freshness rows and counts, status' data ages, the accuracy
 * sums) take at most this share of the time each: one that took 400 ms (5,000 products) is kept
 * 40 s however often pages poll and product-dates change, so they leave the read path its CPU.
 * At 450 products (a reading of about 30 ms) that is 10 s, and 3 s after a change. The answers
 * say when they were read.
 */
export const PAGE_READING_LIMIT: ComputeShareLimit = { maxComputeShare: 0.01, maxKeepMs: 60_000 };

/** Which rows of the matrix a caller asks for: a page of SYNC_PRODUCT_IDS, or one product. */
export interface FreshnessPageQuery {
  offset?: number;
  limit?: number;
  productId?: number;
}

/** GET /sync/freshness: the matrix, and whether it is the last good one (database down). */
export type FreshnessAnswer = FreshnessMatrix & { degraded: boolean };

/** The matrix but its rows, and the rows as the JSON text PostgreSQL wrote. */
interface FreshnessReading {
  head: Omit<FreshnessMatrix, 'products'>;
  products: string;
}

/** The answer's bytes: the head's fields, `products` as written, then `degraded`. */
function answerBytes(reading: FreshnessReading, degraded: boolean): Buffer {
  const head = JSON.stringify(reading.head);
  return Buffer.concat([
    Buffer.from(`${head.slice(0, -1)},"products":`),
    Buffer.from(reading.products),
    Buffer.from(`,"degraded":${degraded}}`),
  ]);
}

/**
 * Classifies every product-date of the configured products in SQL and answers a page of rows
 * (every cell's count over all of them), read once and shared by concurrent callers for a moment.
 * While the database cannot answer, the last matrix this instance built for that page is
 * answered with `degraded: true` (its generatedAt says how old it is); with none,
 * DatabaseUnavailableError.
 */
@Injectable()
export class FreshnessService {
  private readonly pages = new SharedReadings<{ reading: FreshnessReading; json: Buffer }>(
    FRESHNESS_SHARE_MS,
    64,
    Date.now,
    PAGE_READING_LIMIT,
  );
  private readonly counts = new SharedReading<Record<FreshnessState, number>>(
    FRESHNESS_SHARE_MS,
    Date.now,
    PAGE_READING_LIMIT,
  );
  /** The last good reading per page, for answering while the database is away. */
  private readonly last = new Map<string, FreshnessReading>();

  constructor(
    private readonly syncStates: DueListRepository,
    @InjectConfig() private readonly config: AppConfig,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    @Optional() private readonly outage?: DatabaseOutage,
    @Optional() events?: InventoryEvents,
  ) {
    const forget = (): void => {
      this.pages.invalidate();
      this.counts.invalidate();
    };
    events?.syncRunFinished$.subscribe(forget);
    events?.productDateChanged$.subscribe(() => {
      this.pages.changed(CHANGED_SHARE_MS);
      this.counts.changed(CHANGED_SHARE_MS);
    });
  }

  async answer(query: FreshnessPageQuery = {}, now?: Date): Promise<FreshnessAnswer> {
    return JSON.parse((await this.answerJson(query, now)).toString()) as FreshnessAnswer;
  }

  /**
   * The answer as JSON bytes: a page read in the last moments is sent as it was written (a
   * 400 KB page is neither parsed nor serialised by the service: PostgreSQL writes its rows).
   */
  async answerJson(query: FreshnessPageQuery = {}, now?: Date): Promise<Buffer> {
    const page = this.page(query);
    const key = `${page.productId ?? ''}:${page.offset}:${page.limit}`;
    // While an outage is known the answer says so, even within a shared reading's life (a page
    // read just before the outage is otherwise answered as current for up to its share time).
    const lastGood = this.last.get(key);
    if (lastGood && this.outage?.isDown()) return answerBytes(lastGood, true);
    try {
      const { reading, json } = await this.pages.read(key, async () => {
        const reading = await this.reading(query, now ?? new Date());
        return { reading, json: answerBytes(reading, false) };
      });
      this.remember(key, reading);
      return json;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.outage?.report('sync freshness', err);
      const last = this.last.get(key);
      if (!last) throw new DatabaseUnavailableError();
      return answerBytes(last, true);
    }
  }

  /** Builds the matrix of one page now (not shared: `answer` shares it). */
  async matrix(query: FreshnessPageQuery = {}, now: Date = new Date()): Promise<FreshnessMatrix> {
    const { head, products } = await this.reading(query, now);
    return { ...head, products: JSON.parse(products) as FreshnessMatrix['products'] };
  }

  private async reading(query: FreshnessPageQuery, now: Date): Promise<FreshnessReading> {
    const { productIds, timeZone } = this.config.sync;
    const page = this.page(query);
    const today = todayIn(timeZone, now);
    const days = this.policy.lastDay + 1;
    const targets = Array.from({ length: days }, (_, day) => targetSecondsForDay(this.policy, day));
    const ids =
      page.productId !== undefined
        ? [page.productId]
        : productIds.slice(page.offset, page.offset + page.limit);
    const [products, counts] = await Promise.all([
      this.syncStates.freshnessRowsJson({ productIds: ids, today, targets, now }),
      this.counts.read(() => this.syncStates.freshnessCounts({ productIds, today, targets, now })),
    ]);
    return {
      head: {
        generatedAt: now.toISOString(),
        timeZone,
        today,
        dates: dateRange(today, days),
        codes: Object.fromEntries(FRESHNESS_STATES.map((s) => [FRESHNESS_CODES[s], s])),
        bands: freshnessBands(this.policy),
        counts,
        page: { offset: page.offset, limit: page.limit, total: productIds.length },
      },
      products,
    };
  }

  private page(query: FreshnessPageQuery): { offset: number; limit: number; productId?: number } {
    if (query.productId !== undefined) {
      if (!this.config.sync.productIds.includes(query.productId)) {
        throw new ProductNotFoundError(query.productId);
      }
      return { offset: 0, limit: 1, productId: query.productId };
    }
    return {
      offset: query.offset ?? 0,
      limit: Math.min(FRESHNESS_MAX_LIMIT, query.limit ?? FRESHNESS_DEFAULT_LIMIT),
    };
  }

  private remember(key: string, reading: FreshnessReading): void {
    this.last.delete(key);
    this.last.set(key, reading);
    if (this.last.size > 16) this.last.delete(this.last.keys().next().value as string);
  }
}
