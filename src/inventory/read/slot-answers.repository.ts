import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { KeyBatcher } from './key-batcher';
import { slotsJson } from './slots-json';

/** A stored slots answer with the product-date's last successful sync (for Last-Modified). */
export interface StoredSlotAnswer {
  body: string;
  lastSuccessAt: Date | null;
}

/** A product-date, as the read API names it (date: YYYY-MM-DD). */
export interface ProductDate {
  productId: number;
  date: string;
}

/**
 * The stored answers of several product-dates with their last sync, in one statement: for each
 * key (by its position `i`, from 1) one primary-key lookup on each table; a key without a stored
 * answer has no row. The LATERAL keeps it to index lookups whatever the planner guesses of the
 * arrays' length. Exported so the benchmark can EXPLAIN ANALYZE exactly what the service runs.
 */
export function slotAnswersQuery(keys: readonly ProductDate[]): Prisma.Sql {
  return Prisma.sql`
    SELECT k.i::int AS i, a.body, a."lastSuccessAt"
      FROM unnest(${keys.map((k) => k.productId)}::int[], ${keys.map((k) => k.date)}::date[])
           WITH ORDINALITY AS k(product_id, date, i)
     CROSS JOIN LATERAL (
       SELECT sa.body, pds.last_success_at AS "lastSuccessAt"
         FROM slot_answers sa
         LEFT JOIN product_date_syncs pds ON pds.product_id = sa.product_id AND pds.date = sa.date
        WHERE sa.product_id = k.product_id AND sa.date = k.date
     ) a`;
}

/** Stored-answer lookups running at once, at most (and never more than the pool's connections). */
const MAX_LOOKUPS_IN_FLIGHT = 4;
/** Product-dates in one lookup, at most. */
const MAX_KEYS_PER_LOOKUP = 100;

/**
 * The slot_answers table: each product-date's slots answer as the read API sends it, rendered by
 * PostgreSQL (`slotsJson`, the same expression as the live read) inside the sync's store
 * transaction, so it changes exactly when the rows it is built from do.
 */
@Injectable()
export class SlotAnswersRepository {
  /** Reads arriving while the lookups in flight run share the next one (see KeyBatcher). */
  private readonly lookups: KeyBatcher<ProductDate, StoredSlotAnswer | null>;

  constructor(private readonly prisma: PrismaService) {
    this.lookups = new KeyBatcher(
      (keys) => this.lookup(keys),
      Math.max(1, Math.min(MAX_LOOKUPS_IN_FLIGHT, prisma.poolSize)),
      MAX_KEYS_PER_LOOKUP,
    );
  }

  /**
   * Renders the product-date's answer from its rows as `tx` sees them and stores it, when its rows
   * changed or no answer is stored yet (the first sync of the product-date, or the first since
   * this table was added). An equal text is not written again. Returns true when a row was written.
   */
  async storeInTransaction(
    tx: Prisma.TransactionClient,
    productId: number,
    date: string,
    rowsChanged: boolean,
  ): Promise<boolean> {
    // The one-time filter runs before the JSON is built: an unchanged product-date that has its
    // answer costs one index probe.
    const written = await tx.$executeRaw(Prisma.sql`
      INSERT INTO slot_answers AS a (product_id, date, body)
      SELECT ${productId}::int, ${date}::date, ${slotsJson(productId, date)}
       WHERE ${rowsChanged}::boolean
          OR NOT EXISTS (SELECT 1 FROM slot_answers
                          WHERE product_id = ${productId}::int AND date = ${date}::date)
      ON CONFLICT (product_id, date) DO UPDATE SET body = EXCLUDED.body
       WHERE a.body IS DISTINCT FROM EXCLUDED.body`);
    return written > 0;
  }

  /** The stored answer of a product-date, or null when none is stored (never synced since). */
  find(productId: number, date: string): Promise<StoredSlotAnswer | null> {
    return this.lookups.get({ productId, date });
  }

  private async lookup(keys: ProductDate[]): Promise<Array<StoredSlotAnswer | null>> {
    const rows = await this.prisma.queryPrepared<StoredSlotAnswer & { i: number }>(
      'read-slot-answers',
      slotAnswersQuery(keys),
    );
    const found = new Array<StoredSlotAnswer | null>(keys.length).fill(null);
    for (const { i, body, lastSuccessAt } of rows) found[i - 1] = { body, lastSuccessAt };
    return found;
  }
}
