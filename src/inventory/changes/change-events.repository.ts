import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import type { StoreColumns } from '../sync/inventory-diff';

export const AVAILABILITY_CHANGED = 'availability.changed';
export const PRODUCT_REMOVED = 'product.removed';
export const CHANGE_EVENT_TYPES = [AVAILABILITY_CHANGED, PRODUCT_REMOVED] as const;
export type ChangeEventType = (typeof CHANGE_EVENT_TYPES)[number];

/** What changed in a product-date's stored slots: providerSlotIds, each list sorted. */
export interface AvailabilityDiff {
  slots: {
    added: string[];
    removed: string[];
    /** Seats left changed (the slot's or a pax type's remaining). */
    seatsChanged: string[];
    /** A pax type's final or original price, discount or currency changed. */
    priceChanged: string[];
    /** Anything else of a slot that stays: times, variant, pax names, limits, order, types. */
    otherChanged: string[];
  };
  /** Slots that had seats and now have none. */
  soldOut: string[];
  /** Slots that had no seats and now have some. */
  reopened: string[];
}

/** One published event as the feed and the webhooks send it. */
export interface ChangeEvent {
  /** The feed cursor; also the version: it grows with every change of a product-date. */
  cursor: string;
  type: ChangeEventType;
  productId: number;
  /** YYYY-MM-DD; null for product.removed. */
  date: string | null;
  changedAt: string;
  data: Record<string, unknown>;
}

export interface ChangePage {
  events: ChangeEvent[];
  /** The cursor to pass as `after` next (the last event's, or `after` when none). */
  nextCursor: string;
  /** The newest published cursor. */
  head: string;
}

/** The cursor is older than the retention: events after it were pruned. */
export class CursorExpiredError extends Error {
  constructor(
    readonly after: string,
    readonly prunedThrough: string,
  ) {
    super(
      `cursor ${after} is older than the change feed's retention (events through ${prunedThrough} were pruned); resync from the slots API, then resume from the feed's head`,
    );
    this.name = 'CursorExpiredError';
  }
}

/** The published feed as seen by withPublishingHeld's callback: nothing is published meanwhile. */
export interface HeldFeed {
  /** The newest published cursor. */
  head: bigint;
  /** The newest cursor pruned (0: none). */
  prunedThrough: bigint;
  /** Published events after `after`, oldest first, at most `limit`. */
  eventsAfter(after: bigint, limit: number): Promise<ChangeEvent[]>;
  /** The newest kept event's cursor written before `at`; null when none is kept. */
  lastWrittenBefore(at: Date): Promise<bigint | null>;
}

interface EventRow {
  position: bigint;
  type: ChangeEventType;
  productId: number;
  date: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
}

function toEvent(r: EventRow): ChangeEvent {
  const cursor = r.position.toString();
  const data =
    r.type === AVAILABILITY_CHANGED
      ? {
          productId: r.productId,
          date: r.date,
          version: cursor,
          changedAt: r.createdAt.toISOString(),
          ...r.payload,
        }
      : { productId: r.productId, changedAt: r.createdAt.toISOString(), ...r.payload };
  return {
    cursor,
    type: r.type,
    productId: r.productId,
    date: r.date,
    changedAt: r.createdAt.toISOString(),
    data,
  };
}

/**
 * The change feed's tables (change_events, change_feed_state): the outbox the store writes in
 * its own transaction, the publisher that gives committed events their cursor, the reads of the
 * feed and the pruning of old events.
 */
@Injectable()
export class ChangeEventsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Inside the store's transaction, before the answer's rows are written: compares the answer
   * with the stored rows of the product-date (in SQL, decimals by value) and inserts one
   * availability.changed event when anything differs. Its conditions mirror slot-store's
   * IS DISTINCT FROM guards, so an event is written exactly when rows will be. The store's
   * advisory lock on the product-date makes the "before" the previous commit's rows.
   */
  async recordInTransaction(
    tx: Prisma.TransactionClient,
    productId: number,
    date: string,
    { slots, pax }: StoreColumns,
  ): Promise<boolean> {
    const written = await tx.$executeRaw`
      WITH ans AS (
        SELECT * FROM unnest(${slots.providerSlotId}::text[], ${slots.startTime}::text[],
                             ${slots.endTime}::text[], ${slots.variantId}::int[],
                             ${slots.remaining}::int[], ${slots.currencyCode}::text[])
               AS t(provider_slot_id, start_time, end_time, variant_id, remaining, currency_code)
      ), ans_pax AS (
        SELECT * FROM unnest(${pax.providerSlotId}::text[], ${pax.type}::text[], ${pax.position}::int[],
                             ${pax.name}::text[], ${pax.description}::text[], ${pax.min}::int[],
                             ${pax.max}::int[], ${pax.remaining}::int[], ${pax.isPrimary}::bool[],
                             ${pax.finalPrice}::numeric[], ${pax.originalPrice}::numeric[],
                             ${pax.discount}::numeric[], ${pax.currencyCode}::text[])
               AS t(provider_slot_id, type, position, name, description, min, max, remaining,
                    is_primary, final_price, original_price, discount, currency_code)
      ), cur AS (
        SELECT id, provider_slot_id, start_time, end_time, variant_id, remaining, currency_code
          FROM slots WHERE product_id = ${productId} AND date = ${date}::date
      ), cur_pax AS (
        SELECT c.provider_slot_id, p.type, p.position, p.name, p.description, p.min, p.max,
               p.remaining, p.is_primary, p.final_price, p.original_price, p.discount, p.currency_code
          FROM pax_availability p JOIN cur c ON c.id = p.slot_id
      ), pax_diff AS (
        -- Pax rows of slots that stay, paired by type; a type only on one side is "other".
        SELECT coalesce(a.provider_slot_id, c.provider_slot_id) AS provider_slot_id,
               bool_or(a.remaining IS DISTINCT FROM c.remaining) AS seats,
               bool_or((a.final_price, a.original_price, a.discount, a.currency_code)
                       IS DISTINCT FROM (c.final_price, c.original_price, c.discount, c.currency_code)
                       AND a.type IS NOT NULL AND c.type IS NOT NULL) AS price,
               bool_or(a.type IS NULL OR c.type IS NULL
                       OR (a.position, a.name, a.description, a.min, a.max, a.is_primary)
                          IS DISTINCT FROM (c.position, c.name, c.description, c.min, c.max, c.is_primary)) AS other
          FROM ans_pax a FULL JOIN cur_pax c
            ON c.provider_slot_id = a.provider_slot_id AND c.type = a.type
         GROUP BY 1
      ), slot_diff AS (
        SELECT coalesce(a.provider_slot_id, c.provider_slot_id) AS id,
               c.provider_slot_id IS NULL AS added,
               a.provider_slot_id IS NULL AS removed,
               a.provider_slot_id IS NOT NULL AND c.provider_slot_id IS NOT NULL AS stays,
               a.remaining IS DISTINCT FROM c.remaining OR coalesce(d.seats, false) AS seats,
               a.currency_code IS DISTINCT FROM c.currency_code OR coalesce(d.price, false) AS price,
               (a.start_time, a.end_time, a.variant_id) IS DISTINCT FROM (c.start_time, c.end_time, c.variant_id)
                 OR coalesce(d.other, false) AS other,
               c.remaining > 0 AND a.remaining = 0 AS sold_out,
               c.remaining = 0 AND a.remaining > 0 AS reopened
          FROM ans a FULL JOIN cur c ON c.provider_slot_id = a.provider_slot_id
          LEFT JOIN pax_diff d ON d.provider_slot_id = coalesce(a.provider_slot_id, c.provider_slot_id)
      ), diff AS (
        SELECT coalesce(array_agg(id ORDER BY id) FILTER (WHERE added), '{}') AS added,
               coalesce(array_agg(id ORDER BY id) FILTER (WHERE removed), '{}') AS removed,
               coalesce(array_agg(id ORDER BY id) FILTER (WHERE stays AND seats), '{}') AS seats,
               coalesce(array_agg(id ORDER BY id) FILTER (WHERE stays AND price), '{}') AS price,
               coalesce(array_agg(id ORDER BY id) FILTER (WHERE stays AND other), '{}') AS other,
               coalesce(array_agg(id ORDER BY id) FILTER (WHERE stays AND sold_out), '{}') AS sold_out,
               coalesce(array_agg(id ORDER BY id) FILTER (WHERE stays AND reopened), '{}') AS reopened,
               bool_or(added OR removed OR (stays AND (seats OR price OR other))) AS changed
          FROM slot_diff
      )
      INSERT INTO change_events (type, product_id, date, payload)
      SELECT ${AVAILABILITY_CHANGED}, ${productId}::int, ${date}::date,
             jsonb_build_object(
               'slots', jsonb_build_object('added', to_jsonb(added), 'removed', to_jsonb(removed),
                                           'seatsChanged', to_jsonb(seats),
                                           'priceChanged', to_jsonb(price),
                                           'otherChanged', to_jsonb(other)),
               'soldOut', to_jsonb(sold_out), 'reopened', to_jsonb(reopened))
        FROM diff
       WHERE changed`;
    return written > 0;
  }

  /** Inside the caller's transaction: one product.removed event per product, in id order. */
  async recordRemovedInTransaction(
    tx: Prisma.TransactionClient,
    productIds: readonly number[],
  ): Promise<void> {
    if (productIds.length === 0) return;
    await tx.$executeRaw`
      INSERT INTO change_events (type, product_id, date, payload)
      SELECT ${PRODUCT_REMOVED}, id, NULL, '{}'::jsonb
        FROM unnest(${[...productIds]}::int[]) AS id ORDER BY id`;
  }

  /**
   * Numbers the committed events that have no position yet, in the order they were written, in
   * one transaction holding the state row's lock: publishers of several instances take turns, a
   * number is never given twice, and a reader never sees a position before a smaller one. Any
   * event visible here has committed, and every event of one product-date was written after the
   * previous one committed (the store's advisory lock), so its position is the larger one.
   * `alsoInTransaction` runs with the events in the same transaction. Returns them, oldest first.
   */
  async publish(
    limit: number,
    alsoInTransaction?: (tx: Prisma.TransactionClient, events: ChangeEvent[]) => Promise<void>,
  ): Promise<ChangeEvent[]> {
    return this.prisma.$transaction(async (tx) => {
      // Another instance publishing now: its turn, this one has nothing to do.
      const [state] = await tx.$queryRaw<Array<{ last: bigint }>>`
        SELECT last_position AS last FROM change_feed_state WHERE id = 1 FOR UPDATE SKIP LOCKED`;
      if (!state) return [];
      const rows = await tx.$queryRaw<EventRow[]>`
        WITH next AS (
          SELECT id, ${state.last}::bigint + row_number() OVER (ORDER BY id) AS position
            FROM (SELECT id FROM change_events WHERE position IS NULL ORDER BY id LIMIT ${limit}) n
        )
        UPDATE change_events e SET position = next.position
          FROM next WHERE e.id = next.id
        RETURNING e.position, e.type, e.product_id AS "productId",
                  to_char(e.date, 'YYYY-MM-DD') AS date, e.payload, e.created_at AS "createdAt"`;
      if (rows.length === 0) return [];
      rows.sort((a, b) => (a.position < b.position ? -1 : 1));
      await tx.$executeRaw`
        UPDATE change_feed_state SET last_position = ${rows[rows.length - 1].position} WHERE id = 1`;
      const published = rows.map(toEvent);
      // The webhooks' deliveries are queued in the same transaction: none lost, none twice.
      await alsoInTransaction?.(tx, published);
      return published;
    });
  }

  /**
   * Runs `fn` in one transaction that holds the feed state's row: no publisher numbers events
   * (nor queues their deliveries) until it ends, so `fn` sees the head stand still and may queue
   * deliveries of events up to it without racing the next publication (a re-enabled webhook).
   */
  async withPublishingHeld<T>(
    fn: (tx: Prisma.TransactionClient, feed: HeldFeed) => Promise<T>,
    timeoutMs: number,
  ): Promise<T> {
    return this.prisma.$transaction(
      async (tx) => {
        const [state] = await tx.$queryRaw<Array<{ last: bigint; pruned: bigint }>>`
          SELECT last_position AS last, pruned_through AS pruned
            FROM change_feed_state WHERE id = 1 FOR UPDATE`;
        const feed: HeldFeed = {
          head: state.last,
          prunedThrough: state.pruned,
          eventsAfter: async (after, limit) => {
            const rows = await tx.$queryRaw<EventRow[]>`
              SELECT position, type, product_id AS "productId",
                     to_char(date, 'YYYY-MM-DD') AS date, payload, created_at AS "createdAt"
                FROM change_events
               WHERE position > ${after}::bigint AND position <= ${state.last}::bigint
               ORDER BY position
               LIMIT ${limit}`;
            return rows.map(toEvent);
          },
          lastWrittenBefore: async (at) => {
            const [r] = await tx.$queryRaw<Array<{ position: bigint | null }>>`
              SELECT max(position) AS position FROM change_events
               WHERE created_at < ${at} AND position IS NOT NULL`;
            return r.position;
          },
        };
        return fn(tx, feed);
      },
      { timeout: timeoutMs },
    );
  }

  /**
   * Published events after `after` (null: from the oldest kept), oldest first. Throws
   * CursorExpiredError when events after the cursor were pruned.
   */
  async page(after: bigint | null, limit: number, productId?: number): Promise<ChangePage> {
    return this.prisma.$transaction(
      async (tx) => {
        const [state] = await tx.$queryRaw<Array<{ last: bigint; pruned: bigint }>>`
          SELECT last_position AS last, pruned_through AS pruned FROM change_feed_state WHERE id = 1`;
        if (after !== null && after < state.pruned) {
          throw new CursorExpiredError(after.toString(), state.pruned.toString());
        }
        const from = after ?? 0n;
        const rows = await tx.$queryRaw<EventRow[]>`
          SELECT position, type, product_id AS "productId", to_char(date, 'YYYY-MM-DD') AS date,
                 payload, created_at AS "createdAt"
            FROM change_events
           WHERE position > ${from}::bigint AND position <= ${state.last}::bigint
             AND (${productId ?? null}::int IS NULL OR product_id = ${productId ?? null}::int)
           ORDER BY position
           LIMIT ${limit}`;
        const events = rows.map(toEvent);
        // A short page read everything published: the cursor moves to the head, past the events
        // of other products that a productId filter skipped.
        const head = state.last > from ? state.last : from;
        const nextCursor =
          events.length === limit ? events[events.length - 1].cursor : head.toString();
        return { events, nextCursor, head: state.last.toString() };
      },
      { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
    );
  }

  /**
   * Deletes published events older than `retentionMs`, at most `batch` per statement, and
   * records the newest position removed (older cursors then get 410). Returns the count.
   */
  async prune(retentionMs: number, batch: number, maxBatches = 100): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const [{ deleted }] = await this.prisma.$queryRaw<Array<{ deleted: number }>>`
        WITH gone AS (
          DELETE FROM change_events WHERE id IN (
            SELECT id FROM change_events
             WHERE created_at < now() - make_interval(secs => ${retentionMs / 1000}::float8)
               AND position IS NOT NULL
             ORDER BY created_at LIMIT ${batch})
          RETURNING position
        ), mark AS (
          UPDATE change_feed_state SET pruned_through = greatest(pruned_through, (SELECT max(position) FROM gone))
           WHERE id = 1 AND EXISTS (SELECT 1 FROM gone)
        )
        SELECT count(*)::int AS deleted FROM gone`;
      total += deleted;
      if (deleted < batch) break;
    }
    return total;
  }

  /** Oldest unpublished event's age, and the counts the metrics show. */
  async headPosition(): Promise<bigint> {
    const [s] = await this.prisma.$queryRaw<Array<{ last: bigint }>>`
      SELECT last_position AS last FROM change_feed_state WHERE id = 1`;
    return s.last;
  }
}
