import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { slotsJson } from './slots-json';

/** A stored slots answer with the product-date's last successful sync (for Last-Modified). */
export interface StoredSlotAnswer {
  body: string;
  lastSuccessAt: Date | null;
}

/**
 * The product-date's stored answer with its last sync: one primary-key lookup on each table.
 * Exported so the benchmark can EXPLAIN ANALYZE exactly what the service runs.
 */
export function slotAnswerQuery(productId: number, date: string): Prisma.Sql {
  return Prisma.sql`
    SELECT a.body, pds.last_success_at AS "lastSuccessAt"
      FROM slot_answers a
      LEFT JOIN product_date_syncs pds ON pds.product_id = a.product_id AND pds.date = a.date
     WHERE a.product_id = ${productId}::int AND a.date = ${date}::date`;
}

/**
 * The slot_answers table: each product-date's slots answer as the read API sends it, rendered by
 * PostgreSQL (`slotsJson`, the same expression as the live read) inside the sync's store
 * transaction, so it changes exactly when the rows it is built from do.
 */
@Injectable()
export class SlotAnswersRepository {
  constructor(private readonly prisma: PrismaService) {}

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
  async find(productId: number, date: string): Promise<StoredSlotAnswer | null> {
    const [row] = await this.prisma.queryPrepared<{ body: string; lastSuccessAt: Date | null }>(
      'read-slot-answer',
      slotAnswerQuery(productId, date),
    );
    return row ?? null;
  }
}
