import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { addDays } from '../calendar';
import {
  FRESHNESS_CODES,
  FRESHNESS_STATES,
  NON_FAILURE_OUTCOMES,
  type FreshnessState,
} from '../freshness/freshness';
import type { ProductFreshnessRow } from '../freshness/freshness-matrix';
import type { ChangeStats } from '../policy/learned-rates';
import { targetSecondsForDay, type HorizonName, type SyncPolicy } from '../policy/sync-policy';
import { ROW_TARGET_SQL, urgencyScoreSql } from '../policy/urgency-score';
import type { FreshnessSummary } from '../sync-status.types';
import {
  dueRetryDelayMs,
  markBatches,
  type DueEntry,
  type DueSummary,
  type RunScope,
} from './due-list';
import { afterProductFailure } from './product-backoff';

/** Priority of a manual run's marks: ahead of everything scheduled. */
/** Per policy horizon, what the configured products' oldest data adds up to (status). */
export interface HorizonFreshness {
  /** The products worst relative to their targets, worst first, with their oldest age per horizon. */
  worst: Array<{ productId: number; oldestAgeSeconds: Record<HorizonName, number | null> }>;
  byHorizon: FreshnessSummary['byHorizon'];
}

/** The data gauges of one range of dates. */
export interface RangeStats {
  oldestSuccessAt: Date | null;
  /** Product-dates that have succeeded at least once. */
  synced: number;
  due: number;
}

/** Each horizon's days, target and share (within or over capacity), as a `horizon` CTE's body. */
const horizonsSql = (policy: SyncPolicy): Prisma.Sql => Prisma.sql`
  SELECT * FROM unnest(${policy.horizons.map((h) => h.fromDay)}::int[],
                       ${policy.horizons.map((h) => h.toDay)}::int[],
                       ${policy.horizons.map((h) => h.targetSeconds)}::int[],
                       ${policy.horizons.map((h) => h.stretchShare)}::float8[])
           AS h(from_day, to_day, target_seconds, share)`;

/** A product backing off (product_sync_backoffs past the threshold), as a product-level view. */
export interface BackingOffProduct {
  productId: number;
  since: Date;
  consecutiveFailures: number;
  nextProbeAt: Date | null;
  lastOutcome: string | null;
}

/** The products in `exclude` ("productId:date": the ones in flight). */
const productsOf = (exclude: readonly string[]): number[] => [
  ...new Set(exclude.map((k) => Number(k.slice(0, k.indexOf(':'))))),
];

/** Product-date `s` is not one of `exclude` ("productId:date": the ones in flight). */
const notInFlightSql = (exclude: readonly string[]): Prisma.Sql => Prisma.sql`
  NOT ((s.product_id::text || ':' || to_char(s.date, 'YYYY-MM-DD')) = ANY(${[...exclude]}::text[]))`;

const MARK_TRANSACTION_MAX_WAIT_MS = 30_000;
const MARK_TRANSACTION_TIMEOUT_MS = 10_000;

/** Day offsets 0..n-1 from `today` with each day's target age, as a `day` CTE's body. */
const daysSql = (today: string, targets: readonly number[]): Prisma.Sql => Prisma.sql`
  SELECT (d.ord - 1)::int AS day, ${today}::date + (d.ord - 1)::int AS date, d.target
    FROM unnest(${[...targets]}::int[]) WITH ORDINALITY AS d(target, ord)`;

/**
 * Whole seconds from `at` to `now`, never negative (as the freshness answers count ages); null
 * stays null. float8 for rows read as JavaScript numbers, int8 for JSON text written in SQL.
 */
const secondsSinceSql = (
  now: Date,
  at: Prisma.Sql,
  type: 'float8' | 'int8' = 'float8',
): Prisma.Sql =>
  Prisma.sql`
  (CASE WHEN ${at} IS NULL THEN NULL
        ELSE GREATEST(0, round(extract(epoch FROM ${now}::timestamptz - ${at}))) END)::${Prisma.raw(type)}`;

/**
 * Cell `s` (a product_date_syncs row or none) of target `target` (seconds): its times (`success`,
 * `attempt`) and its freshness letter (`code`), the SQL mirror of `classifyFreshness`. The times
 * are stored to the millisecond, as a JavaScript Date holds them, so ages compare alike.
 */
const cellSql = (now: Date, target: Prisma.Sql): Prisma.Sql => Prisma.sql`
  s.last_success_at AS success,
  s.last_attempt_at AS attempt,
  CASE
    WHEN s.product_id IS NULL THEN ${FRESHNESS_CODES.never}
    WHEN s.last_attempt_at IS NOT NULL
     AND (s.last_success_at IS NULL OR s.last_attempt_at > s.last_success_at)
     AND CASE WHEN s.last_outcome IS NOT NULL
              THEN NOT (lower(s.last_outcome) = ANY(${[...NON_FAILURE_OUTCOMES]}::text[]))
              ELSE s.last_error IS NOT NULL END
      THEN ${FRESHNESS_CODES.failed}
    WHEN s.last_success_at IS NULL THEN ${FRESHNESS_CODES.never}
    WHEN s.last_success_at < ${now}::timestamptz - 2 * ${target} * interval '1 second'
      THEN ${FRESHNESS_CODES.stale}
    WHEN s.last_success_at < ${now}::timestamptz - ${target} * interval '1 second'
      THEN ${FRESHNESS_CODES.due}
    ELSE ${FRESHNESS_CODES.fresh}
  END AS code`;

export const MANUAL_PRIORITY = 0;
export const SCHEDULED_PRIORITY = 1;
/** Advisory lock that serialises marks ("duelist" in ASCII). */
const MARK_LOCK_KEY = 0x6475656c697374;

/** Which cells of the freshness heatmap to read: products × days from `today`, at `now`. */
export interface FreshnessRowsInput {
  productIds: readonly number[];
  today: string;
  /** The target age (seconds) per day offset from `today`. */
  targets: readonly number[];
  now: Date;
}

export interface MarkDueInput {
  scope: RunScope;
  /** What marked it (a window name, "manual" or "boot"). */
  reason: string;
  priority: number;
  /**
   * Product-dates synced successfully at or after this instant are not marked again (windows
   * firing together share them); null: the boot rule, "older than its own target".
   */
  freshSince: Date | null;
  /** Today in the sync time zone: day offsets, and so targets, count from it. */
  today: string;
  policy: SyncPolicy;
}

export interface MarkDueResult {
  /** Product-dates in the scope that are due after the mark (newly or already). */
  due: number;
  /** Of the scope, those that were due already or synced since `freshSince`: shared work. */
  shared: number;
}

export interface RunProgress {
  succeeded: number;
  failed: number;
  remaining: number;
  changed: number;
  /** When a product-date of the scope last finished (stored or failed) since the run began. */
  lastAttemptAt: Date | null;
}

const dateList = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
};

/**
 * The due list: which product-dates still have to be fetched, kept on product_date_syncs (one row
 * per product-date, so every window marking it shares one entry). The one place its SQL lives.
 * Each statement is a single INSERT … ON CONFLICT or UPDATE, so instances booting together and
 * overlapping ticks cannot race.
 */
@Injectable()
export class DueListRepository {
  private marksInProgress = 0;

  constructor(private readonly prisma: PrismaService) {}

  /** True while this process is marking a scope due (its batches follow one another). */
  get marking(): boolean {
    return this.marksInProgress > 0;
  }

  /**
   * Marks a scope due in bounded batches of products (each at most MARK_BATCH_PRODUCT_DATES
   * product-dates, one statement in its own short transaction), so that no statement or
   * transaction grows with the number of products and the one connection of the embedded
   * database is never held for long. A product-date already due keeps its place (earliest
   * due_since) and takes the most urgent priority and deadline of the marks. `marked_at` is the
   * newest instant a mark asks data from (the tick's instant; now for the boot rule): a fetch
   * already in flight that began before it does not clear the mark (see clearInTransaction).
   * Every batch is idempotent: a mark that failed part way is completed by running it again.
   */
  async markDue(input: MarkDueInput): Promise<MarkDueResult> {
    const { scope, today, policy } = input;
    const dates = dateList(scope.from, scope.to);
    if (dates.length === 0 || scope.productIds.length === 0) return { due: 0, shared: 0 };
    const targets = dates.map((d) =>
      targetSecondsForDay(policy, Math.round((Date.parse(d) - Date.parse(today)) / 86_400_000)),
    );
    // In id order: two marks (or instances) lock the rows of a product in the same order.
    const ids = [...new Set(scope.productIds)].sort((a, b) => a - b);
    const result: MarkDueResult = { due: 0, shared: 0 };
    this.marksInProgress++;
    try {
      for (const batch of markBatches(ids, dates.length)) {
        const r = await this.markBatch(input, batch, dates, targets);
        result.due += r.due;
        result.shared += r.shared;
      }
    } finally {
      this.marksInProgress--;
    }
    return result;
  }

  /** One batch of a mark: these products × the scope's dates, one statement, one transaction. */
  private async markBatch(
    input: MarkDueInput,
    productIds: readonly number[],
    dates: readonly string[],
    targets: readonly number[],
  ): Promise<MarkDueResult> {
    const { reason, priority, freshSince } = input;
    // Fresh since the tick: stored data asked for at or after it. The ask time of the last success
    // is last_attempt_at (a later failure moves it on; then the store time is the bound). The boot
    // rule (no tick): stored within the date's target. `target` is the SQL naming that target.
    const freshClause = (alias: string, target: string) => Prisma.sql`
      ((${freshSince}::timestamptz IS NOT NULL
        AND LEAST(${Prisma.raw(alias)}.last_success_at, ${Prisma.raw(alias)}.last_attempt_at) >= ${freshSince}::timestamptz)
       OR (${freshSince}::timestamptz IS NULL
           AND ${Prisma.raw(alias)}.last_success_at >= now() - ${Prisma.raw(target)} * interval '1 second'))`;
    const scopeSql = Prisma.sql`
      SELECT p AS product_id, d.date::date AS date, d.target
        FROM unnest(${[...productIds]}::int[]) AS p
       CROSS JOIN unnest(${[...dates]}::text[], ${[...targets]}::int[]) AS d(date, target)`;
    // Marks are few (a tick, a manual run, the catch-up rule): each batch holds the lock, so what
    // was shared (already due, or fresh since the tick) is counted exactly even when windows fire
    // together. `shared` reads the rows as they were before this statement's upsert (one
    // snapshot for the whole statement). The store does not take this lock.
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${MARK_LOCK_KEY}::bigint)`;
        const [row] = await tx.$queryRaw<Array<{ due: bigint; shared: bigint }>>`
        WITH scope AS (${scopeSql}),
        shared AS (
          SELECT count(*) AS n
            FROM product_date_syncs s JOIN scope USING (product_id, date)
           -- The batch's rows by the primary key, not a scan of every product's.
           WHERE s.product_id = ANY(${[...productIds]}::int[])
             AND s.date BETWEEN ${dates[0]}::date AND ${dates[dates.length - 1]}::date
             AND (s.due_since IS NOT NULL OR ${freshClause('s', 'scope.target')})
        ),
        marked AS (
          INSERT INTO product_date_syncs AS s
                 (product_id, date, due_since, due_window, due_priority, due_deadline, target_seconds,
                  marked_at)
          SELECT product_id, date, now(), ${reason}, ${priority}::int, now(), target,
                 COALESCE(${freshSince}::timestamptz, now())
            FROM scope
          ON CONFLICT (product_id, date) DO UPDATE SET
            due_since = COALESCE(s.due_since, EXCLUDED.due_since),
            -- The boot rule asks only for data within its target: a fetch in flight answers it.
            marked_at = CASE WHEN ${freshSince}::timestamptz IS NULL AND s.due_since IS NOT NULL
                             THEN s.marked_at
                             ELSE GREATEST(s.marked_at, EXCLUDED.marked_at) END,
            due_window = CASE WHEN s.due_since IS NULL OR EXCLUDED.due_priority < s.due_priority
                              THEN EXCLUDED.due_window ELSE s.due_window END,
            due_priority = CASE WHEN s.due_since IS NULL THEN EXCLUDED.due_priority
                                ELSE LEAST(s.due_priority, EXCLUDED.due_priority) END,
            due_deadline = LEAST(
              CASE WHEN s.due_since IS NULL THEN NULL ELSE s.due_deadline END,
              COALESCE(s.last_success_at + EXCLUDED.target_seconds * interval '1 second', now())),
            target_seconds = EXCLUDED.target_seconds,
            -- A manual run wants an answer now, not after a failure's backoff.
            next_attempt_at = CASE WHEN EXCLUDED.due_priority = ${MANUAL_PRIORITY}::int
                                   THEN NULL ELSE s.next_attempt_at END
          WHERE s.due_since IS NOT NULL
             OR s.last_success_at IS NULL
             OR NOT ${freshClause('s', 'EXCLUDED.target_seconds')}
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM marked) AS due, (SELECT n FROM shared) AS shared`;
        if (priority === MANUAL_PRIORITY) {
          // An operator asks now: a backing-off product's probe may go at once (still one date).
          await tx.$executeRaw`
            UPDATE product_sync_backoffs SET next_probe_at = LEAST(next_probe_at, now())
             WHERE since IS NOT NULL AND product_id = ANY(${[...productIds]}::int[])`;
        }
        return { due: Number(row?.due ?? 0), shared: Number(row?.shared ?? 0) };
      },
      // A batch is small; these bounds only keep a stuck one from holding the lock for ever. The
      // wait covers the embedded database's single connection being busy with another query.
      { maxWait: MARK_TRANSACTION_MAX_WAIT_MS, timeout: MARK_TRANSACTION_TIMEOUT_MS },
    );
  }

  /**
   * The most urgent due product-dates that may be fetched now, in the policy's order (the urgency
   * score, urgency-score.ts): manual first, then the latest relative to its target (as its last
   * mark set it: every tick of a window re-marks its dates), nearer dates on ties. A never-synced one is as old as the time since it entered the range; one
   * handed over into a nearer horizon at most its target plus the time since it entered that
   * horizon (both from UTC midnights). `exclude` ("productId:date") are the ones in flight.
   * A product backing off (product-backoff.ts) gives at most one date, its probe, once its wait is
   * over and none of its dates is in flight, ranked behind every healthy product's dates.
   */
  async nextDue(input: {
    limit: number;
    productIds: readonly number[];
    /** Today: day offsets, and so horizons, count from it. */
    from: string;
    to: string;
    /** Its last day offset says when a date entered the range; its horizons' shares rank. */
    policy: SyncPolicy;
    exclude: readonly string[];
    /**
     * false: only what goes ahead of the value rule's plan (manual marks and backing-off
     * products' probes); the healthy products' scheduled marks are the plan's to order.
     */
    scheduled?: boolean;
  }): Promise<DueEntry[]> {
    if (input.limit <= 0 || input.productIds.length === 0) return [];
    const { lastDay } = input.policy;
    const scheduled = input.scheduled ?? true;
    const busyProducts = productsOf(input.exclude);
    const rows = await this.prisma.$queryRaw<
      Array<{
        product_id: number;
        date: string;
        due_window: string | null;
        due_priority: number;
        failed_attempts: number;
        behind: boolean;
      }>
    >`
      WITH horizon AS (${horizonsSql(input.policy)}),
      candidate AS (
        SELECT s.product_id, s.date, s.due_window, s.due_priority, s.failed_attempts,
               b.product_id IS NOT NULL AS backing_off,
               -- Behind every healthy date, until its probe has waited a second wait for a turn
               -- (over capacity the list is never empty: a recovered product must still be found).
               (b.product_id IS NOT NULL
                AND now() < b.next_probe_at + (b.next_probe_at - b.last_failure_at)) AS behind,
               ${urgencyScoreSql({ now: Prisma.sql`now()`, target: ROW_TARGET_SQL, lastDay })} AS lateness
          FROM product_date_syncs s
          JOIN horizon h ON (s.date - ${input.from}::date) BETWEEN h.from_day AND h.to_day
          LEFT JOIN product_sync_backoffs b ON b.product_id = s.product_id AND b.since IS NOT NULL
         WHERE s.due_since IS NOT NULL
           AND s.product_id = ANY(${[...input.productIds]}::int[])
           AND s.date BETWEEN ${input.from}::date AND ${input.to}::date
           AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())
           AND ${notInFlightSql(input.exclude)}
           AND (${scheduled}::boolean OR s.due_priority = ${MANUAL_PRIORITY}::int OR b.product_id IS NOT NULL)
           -- A backing-off product: one probe at a time, once its wait is over.
           AND (b.product_id IS NULL
                OR (b.next_probe_at <= now() AND s.product_id <> ALL(${busyProducts}::int[])))
      ),
      pick AS (
        SELECT * FROM candidate WHERE NOT backing_off
        UNION ALL
        (SELECT DISTINCT ON (product_id) * FROM candidate WHERE backing_off
          ORDER BY product_id, due_priority, lateness DESC, date)
      )
      SELECT product_id, to_char(date, 'YYYY-MM-DD') AS date, due_window, due_priority,
             failed_attempts, behind
        FROM pick
       ORDER BY behind, due_priority, lateness DESC, date, product_id
       LIMIT ${input.limit}::int`;
    return rows.map((r) => ({
      productId: r.product_id,
      date: r.date,
      reason: r.due_window,
      manual: r.due_priority === MANUAL_PRIORITY,
      failedAttempts: r.failed_attempts,
      behind: r.behind,
    }));
  }

  /**
   * Clears a due mark inside the store's transaction, so "stored" and "no longer due" commit
   * together. A mark made after the fetch was claimed (`claimedAt`) stays: it asked for newer data.
   */
  async clearInTransaction(
    tx: Prisma.TransactionClient,
    productId: number,
    dbDate: Date,
    claimedAt: Date,
  ): Promise<void> {
    await tx.$executeRaw`
      UPDATE product_date_syncs
         SET due_since = NULL, due_window = NULL, due_priority = ${SCHEDULED_PRIORITY}::int,
             due_deadline = NULL, failed_attempts = 0, next_attempt_at = NULL, marked_at = NULL
       WHERE product_id = ${productId}::int AND date = ${dbDate}::date
         AND due_since IS NOT NULL
         AND COALESCE(marked_at, due_since) <= ${claimedAt}::timestamptz`;
  }

  /**
   * When the product-date last synced successfully and when the data stored then was fetched
   * (read inside the store's transaction, under its advisory lock); null before its first sync.
   */
  async storedStateInTransaction(
    tx: Prisma.TransactionClient,
    productId: number,
    dbDate: Date,
  ): Promise<{
    lastSuccessAt: Date | null;
    dataFetchedAt: Date | null;
    /** What its syncs taught so far (learned-rates.ts), as of its last success. */
    changeStats: ChangeStats;
  } | null> {
    const row = await tx.productDateSync.findUnique({
      where: { productId_date: { productId, date: dbDate } },
      select: {
        lastSuccessAt: true,
        dataFetchedAt: true,
        obsChanged: true,
        obsChangedSeconds: true,
        obsUnchanged: true,
        obsUnchangedSeconds: true,
      },
    });
    if (!row) return null;
    return {
      lastSuccessAt: row.lastSuccessAt,
      dataFetchedAt: row.dataFetchedAt,
      changeStats: {
        changed: row.obsChanged,
        changedSeconds: row.obsChangedSeconds,
        unchanged: row.obsUnchanged,
        unchangedSeconds: row.obsUnchangedSeconds,
      },
    };
  }

  /**
   * Records a stored answer (inside the store's transaction, which holds the product-date's
   * advisory lock, so this read-then-write cannot race another store of it).
   */
  async recordSuccessInTransaction(
    tx: Prisma.TransactionClient,
    input: {
      productId: number;
      dbDate: Date;
      attemptAt: Date;
      /** Slots changed, or the first success: what is known changed. */
      known: boolean;
      contentHash: string;
      slotCount: number;
      /** The change statistics after this success's observation; absent: left as they are. */
      changeStats?: ChangeStats;
    },
  ): Promise<void> {
    const { productId, dbDate, known, changeStats } = input;
    const now = new Date();
    const sync = {
      lastAttemptAt: input.attemptAt,
      // The store refuses an answer whose fetch began before this one (see ProductDateStore).
      dataFetchedAt: input.attemptAt,
      lastSuccessAt: now,
      lastOutcome: known ? 'changed' : 'unchanged',
      lastError: null,
      contentHash: input.contentHash,
      slotCount: input.slotCount,
      ...(known ? { lastChangedAt: now } : {}),
      // In the same write as the success: what was learned never runs ahead of or behind it.
      ...(changeStats
        ? {
            obsChanged: changeStats.changed,
            obsChangedSeconds: changeStats.changedSeconds,
            obsUnchanged: changeStats.unchanged,
            obsUnchangedSeconds: changeStats.unchangedSeconds,
          }
        : {}),
    };
    await tx.productDateSync.upsert({
      where: { productId_date: { productId, date: dbDate } },
      create: { productId, date: dbDate, ...sync },
      update: sync,
    });
    // Any date of the product answered: its failures in a row, and any backoff, end.
    await tx.$executeRaw`DELETE FROM product_sync_backoffs WHERE product_id = ${productId}::int`;
  }

  /**
   * A failed fetch: the attempt is recorded and the product-date stays due, retried after a
   * backoff that grows with each failure. Slots and the content hash are not touched. Inside the
   * caller's transaction (which proves the lease term); false when not recorded because the
   * stored data was fetched after this attempt began (a late failure says nothing about it).
   */
  async recordFailureInTransaction(
    tx: Prisma.TransactionClient,
    input: {
      productId: number;
      date: Date;
      attemptAt: Date;
      outcome: string;
      error: string;
    },
  ): Promise<boolean> {
    const delays = Array.from({ length: 16 }, (_, i) => dueRetryDelayMs(i + 1));
    const written = await tx.$executeRaw`
      INSERT INTO product_date_syncs AS s
             (product_id, date, last_attempt_at, last_outcome, last_error)
      VALUES (${input.productId}::int, ${input.date}::date, ${input.attemptAt}::timestamptz,
              ${input.outcome}, ${input.error})
      ON CONFLICT (product_id, date) DO UPDATE SET
        last_attempt_at = EXCLUDED.last_attempt_at,
        last_outcome = EXCLUDED.last_outcome,
        last_error = EXCLUDED.last_error,
        failed_attempts = CASE WHEN s.due_since IS NULL THEN 0 ELSE s.failed_attempts + 1 END,
        next_attempt_at = CASE WHEN s.due_since IS NULL THEN NULL
          ELSE now() + (${delays}::int[])[LEAST(s.failed_attempts + 1, 16)] * interval '1 millisecond' END
      WHERE s.data_fetched_at IS NULL OR s.data_fetched_at <= EXCLUDED.last_attempt_at`;
    if (written === 0) return false;
    await this.recordProductFailureInTransaction(
      tx,
      input.productId,
      input.attemptAt,
      input.outcome,
    );
    return true;
  }

  /**
   * The product-level count of a failure (afterProductFailure), in the failure's transaction: its
   * row is locked while the rule runs, so failures of its dates recorded together count each once.
   * The database's clock, as nextDue compares with it.
   */
  private async recordProductFailureInTransaction(
    tx: Prisma.TransactionClient,
    productId: number,
    attemptAt: Date,
    outcome: string,
  ): Promise<void> {
    // A first failure makes the row, so that the lock below always has one to hold.
    await tx.$executeRaw`
      INSERT INTO product_sync_backoffs (product_id, last_failure_at)
      VALUES (${productId}::int, now()) ON CONFLICT (product_id) DO NOTHING`;
    const [r] = await tx.$queryRaw<
      Array<{
        now: Date;
        consecutive_failures: number;
        since: Date | null;
        probe_failures: number;
        last_failure_at: Date;
        next_probe_at: Date | null;
        last_outcome: string | null;
      }>
    >`
      SELECT now() AS now, consecutive_failures, since, probe_failures, last_failure_at,
             next_probe_at, last_outcome
        FROM product_sync_backoffs WHERE product_id = ${productId}::int FOR UPDATE`;
    const next = afterProductFailure(
      {
        consecutiveFailures: r.consecutive_failures,
        since: r.since,
        probeFailures: r.probe_failures,
        lastFailureAt: r.last_failure_at,
        nextProbeAt: r.next_probe_at,
        lastOutcome: r.last_outcome,
      },
      attemptAt,
      r.now,
      outcome.slice(0, 32),
    );
    await tx.$executeRaw`
      UPDATE product_sync_backoffs
         SET consecutive_failures = ${next.consecutiveFailures}::int,
             since = ${next.since}::timestamptz,
             probe_failures = ${next.probeFailures}::int,
             last_failure_at = ${next.lastFailureAt}::timestamptz,
             next_probe_at = ${next.nextProbeAt}::timestamptz,
             last_outcome = ${next.lastOutcome}
       WHERE product_id = ${productId}::int`;
  }

  /** The products of `productIds` backing off now, the longest first. */
  async backingOffProducts(productIds: readonly number[]): Promise<BackingOffProduct[]> {
    // The ids as one array parameter: status asks with every configured product (5,000 ids
    // would be 5,000 bind parameters for the client to build and the server to parse).
    const rows = await this.prisma.$queryRaw<
      Array<{
        product_id: number;
        since: Date;
        consecutive_failures: number;
        next_probe_at: Date | null;
        last_outcome: string | null;
      }>
    >`
      SELECT product_id, since, consecutive_failures, next_probe_at, last_outcome
        FROM product_sync_backoffs
       WHERE product_id = ANY(${[...productIds]}::int[]) AND since IS NOT NULL
       ORDER BY since, product_id`;
    return rows.map((r) => ({
      productId: r.product_id,
      since: r.since,
      consecutiveFailures: r.consecutive_failures,
      nextProbeAt: r.next_probe_at,
      lastOutcome: r.last_outcome,
    }));
  }

  /**
   * Drops the marks nobody should fetch: products no longer in SYNC_PRODUCT_IDS, and dates
   * that have become the past. Returns how many were dropped.
   */
  async dropOutside(productIds: readonly number[], today: string): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE product_date_syncs
         SET due_since = NULL, due_window = NULL, due_priority = ${SCHEDULED_PRIORITY}::int,
             due_deadline = NULL, failed_attempts = 0, next_attempt_at = NULL, marked_at = NULL
       WHERE due_since IS NOT NULL
         AND (product_id <> ALL(${[...productIds]}::int[]) OR date < ${today}::date)`;
  }

  /** Counts of a run's scope: stored since it began, failed since, still waiting. */
  async progress(scope: RunScope, since: Date): Promise<RunProgress> {
    const rows = await this.prisma.$queryRaw<
      Array<{
        succeeded: bigint;
        failed: bigint;
        remaining: bigint;
        changed: bigint;
        last_attempt: Date | null;
      }>
    >`
      -- Stored since the run began, unless still waiting for a fetch of its own (an answer asked
      -- for before the run's instant, stored after it, leaves the run's mark in place).
      SELECT count(*) FILTER (WHERE last_success_at >= ${since}::timestamptz
                                AND NOT (due_since IS NOT NULL
                                         AND (last_attempt_at IS NULL OR last_attempt_at < ${since}::timestamptz)))
               AS succeeded,
             count(*) FILTER (WHERE due_since IS NOT NULL
                                AND (last_success_at IS NULL OR last_success_at < ${since}::timestamptz)
                                AND last_attempt_at >= ${since}::timestamptz) AS failed,
             count(*) FILTER (WHERE due_since IS NOT NULL
                                AND (last_attempt_at IS NULL OR last_attempt_at < ${since}::timestamptz)) AS remaining,
             count(*) FILTER (WHERE last_changed_at >= ${since}::timestamptz) AS changed,
             -- A store stamps last_success_at when it commits; a failure its attempt's start.
             max(GREATEST(last_success_at, last_attempt_at))
               FILTER (WHERE GREATEST(last_success_at, last_attempt_at) >= ${since}::timestamptz)
               AS last_attempt
        FROM product_date_syncs
       WHERE product_id = ANY(${scope.productIds}::int[])
         AND date BETWEEN ${scope.from}::date AND ${scope.to}::date`;
    const r = rows[0];
    return {
      succeeded: Number(r?.succeeded ?? 0),
      failed: Number(r?.failed ?? 0),
      remaining: Number(r?.remaining ?? 0),
      changed: Number(r?.changed ?? 0),
      lastAttemptAt: r?.last_attempt ?? null,
    };
  }

  /** The due list at a glance, per day offset from `today` (the caller groups by horizon). */
  async summary(productIds: readonly number[], today: string, to: string): Promise<DueSummary> {
    const rows = await this.prisma.$queryRaw<
      Array<{ day: number; due: bigint; backing_off: bigint; manual: bigint; oldest: Date | null }>
    >`
      SELECT (date - ${today}::date) AS day,
             count(*) AS due,
             count(*) FILTER (WHERE next_attempt_at > now()) AS backing_off,
             count(*) FILTER (WHERE due_priority = ${MANUAL_PRIORITY}::int) AS manual,
             min(due_since) AS oldest
        FROM product_date_syncs
       WHERE due_since IS NOT NULL
         AND product_id = ANY(${[...productIds]}::int[])
         AND date BETWEEN ${today}::date AND ${to}::date
       GROUP BY date`;
    return rows.map((r) => ({
      day: Number(r.day),
      due: Number(r.due),
      backingOff: Number(r.backing_off),
      manual: Number(r.manual),
      oldestDueSince: r.oldest,
    }));
  }

  /**
   * The freshness heatmap's rows of `productIds` (in their order) × the days of `targets` (its
   * target age per day offset from today), as objects: the rows of `freshnessRowsJson`.
   */
  async freshnessRows(input: FreshnessRowsInput): Promise<ProductFreshnessRow[]> {
    return JSON.parse(await this.freshnessRowsJson(input)) as ProductFreshnessRow[];
  }

  /**
   * The freshness heatmap's rows of `productIds` (in their order) × the days of `targets` (its
   * target age per day offset from `today`), written by PostgreSQL as the JSON text of the
   * answer's `products`: one object per product with the states as one letter per date, the
   * ages, slots and errors (the SQL mirror of `buildFreshnessMatrix`). A page of 500 products
   * is about 400 KB that the service sends as it comes, without a row object or a
   * serialisation of its own.
   */
  async freshnessRowsJson(input: FreshnessRowsInput): Promise<string> {
    if (input.productIds.length === 0) return '[]';
    const { now } = input;
    const rows = await this.prisma.withoutParallelWorkers(this.prisma.$queryRaw<
      Array<{ products: string }>
    >`
      WITH product AS (
        SELECT product_id, ord FROM unnest(${[...input.productIds]}::int[]) WITH ORDINALITY AS p(product_id, ord)
      ), day AS (${daysSql(input.today, input.targets)}),
      -- The page's stored rows first (by the primary key), so the rest of the table is not read.
      stored AS (
        SELECT * FROM product_date_syncs
         WHERE product_id = ANY(${[...input.productIds]}::int[])
           AND date BETWEEN ${input.today}::date AND ${input.today}::date + ${input.targets.length - 1}::int
      ), cell AS (
        -- Each cell's parts as the answer shows them, so the sort below carries only those.
        SELECT c.product_id, c.ord, c.day, c.code,
               ${secondsSinceSql(now, Prisma.sql`c.success`, 'int8')} AS age,
               CASE WHEN c.success IS NULL THEN NULL ELSE c.slot_count END AS slots,
               CASE WHEN c.last_error <> '' THEN
                 (SELECT to_json(e) FROM (SELECT c.day, c.last_error AS message,
                                                 ${secondsSinceSql(now, Prisma.sql`c.attempt`, 'int8')} AS "attemptAgeSeconds") e)
               END AS error
          FROM (SELECT p.product_id, p.ord, day.day, s.last_error, s.slot_count,
                       ${cellSql(now, Prisma.sql`day.target`)}
                  FROM product p CROSS JOIN day
                  LEFT JOIN stored s ON s.product_id = p.product_id AND s.date = day.date) c
      ), heatmap_row AS (
        SELECT ord, product_id AS "productId",
               string_agg(code, '' ORDER BY day) AS states,
               array_agg(age ORDER BY day) AS "ageSeconds",
               array_agg(slots ORDER BY day) AS slots,
               COALESCE(json_agg(error ORDER BY day) FILTER (WHERE error IS NOT NULL), '[]') AS errors
          FROM cell
         GROUP BY ord, product_id
      )
      SELECT '[' || string_agg(to_json(r)::text, ',' ORDER BY h.ord) || ']' AS products
        FROM heatmap_row h
       CROSS JOIN LATERAL (SELECT h."productId", h.states, h."ageSeconds", h.slots, h.errors) r`);
    return rows[0]?.products ?? '[]';
  }

  /**
   * Cells per freshness state over `productIds` × the days of `targets` (the whole heatmap, not a
   * page of it): one aggregate over the stored rows; a cell without a row is never synced.
   */
  async freshnessCounts(input: {
    productIds: readonly number[];
    today: string;
    targets: readonly number[];
    now: Date;
  }): Promise<Record<FreshnessState, number>> {
    const counts = Object.fromEntries(FRESHNESS_STATES.map((st) => [st, 0])) as Record<
      FreshnessState,
      number
    >;
    // A row's target by its day offset from today (the array is 1-based).
    const target = Prisma.sql`(${[...input.targets]}::int[])[s.date - ${input.today}::date + 1]`;
    const rows = await this.prisma.withoutParallelWorkers(this.prisma.$queryRaw<
      Array<{ code: string; n: bigint }>
    >`
      SELECT code, count(*) AS n
        FROM (SELECT ${cellSql(input.now, target)}
                FROM product_date_syncs s
               WHERE s.product_id = ANY(${[...input.productIds]}::int[])
                 AND s.date BETWEEN ${input.today}::date
                                AND ${input.today}::date + ${input.targets.length - 1}::int) cell
       GROUP BY code`);
    const byCode = new Map(FRESHNESS_STATES.map((st) => [FRESHNESS_CODES[st], st]));
    let stored = 0;
    for (const r of rows) {
      const state = byCode.get(r.code);
      if (state) counts[state] += Number(r.n);
      stored += Number(r.n);
    }
    counts.never += input.productIds.length * input.targets.length - stored;
    return counts;
  }

  /**
   * Per policy horizon, over `productIds`: the products whose oldest data is the worst relative
   * to the horizon's target (a product with a never-synced date counts as the worst), `worst` of
   * them with their oldest age per horizon (the SQL mirror of `oldestAges`), and what every
   * product adds up to per horizon. One statement; only the summary leaves the database.
   */
  async horizonFreshness(input: {
    productIds: readonly number[];
    today: string;
    policy: SyncPolicy;
    now: Date;
    worst: number;
  }): Promise<HorizonFreshness> {
    const { policy, now } = input;
    const horizons = policy.horizons;
    const rows = await this.prisma.withoutParallelWorkers(this.prisma.$queryRaw<
      Array<{
        rank: bigint | null;
        product_id: number | null;
        ord: bigint;
        age: number | null;
        incomplete: bigint | null;
        over_target: bigint | null;
        oldest: number | null;
      }>
    >`
      WITH horizon AS (
        SELECT * FROM unnest(${horizons.map((h) => h.fromDay)}::int[],
                             ${horizons.map((h) => h.toDay)}::int[],
                             ${horizons.map((h) => h.targetSeconds)}::int[])
                 WITH ORDINALITY AS h(from_day, to_day, target_seconds, ord)
      ), stored AS (
        -- The horizons are consecutive from day 0: a date's is the bucket of its first days.
        SELECT s.product_id,
               width_bucket(s.date - ${input.today}::date, ${horizons.map((h) => h.fromDay)}::int[]) AS ord,
               count(s.last_success_at) AS synced, min(s.last_success_at) AS oldest
          FROM product_date_syncs s
         WHERE s.product_id = ANY(${[...input.productIds]}::int[])
           AND s.date BETWEEN ${input.today}::date AND ${input.today}::date + ${policy.lastDay}::int
         GROUP BY 1, 2
      ), age AS (
        SELECT p.product_id, h.ord, h.target_seconds, st.oldest,
               CASE WHEN COALESCE(st.synced, 0) = h.to_day - h.from_day + 1
                    THEN ${secondsSinceSql(now, Prisma.sql`st.oldest`)} END AS age
          FROM unnest(${[...input.productIds]}::int[]) AS p(product_id)
         CROSS JOIN horizon h
          LEFT JOIN stored st ON st.product_id = p.product_id AND st.ord = h.ord
      ), worst AS (
        SELECT product_id,
               row_number() OVER (ORDER BY max(CASE WHEN age IS NULL THEN 'Infinity'::float8
                                                    ELSE age / GREATEST(1, target_seconds) END) DESC,
                                  product_id) AS rank
          FROM age GROUP BY product_id
         ORDER BY rank LIMIT ${input.worst}::int
      )
      SELECT w.rank, a.product_id, a.ord, a.age,
             NULL::bigint AS incomplete, NULL::bigint AS over_target, NULL::float8 AS oldest
        FROM age a JOIN worst w USING (product_id)
      UNION ALL
      SELECT NULL, NULL, ord, NULL,
             count(*) FILTER (WHERE age IS NULL),
             count(*) FILTER (WHERE oldest < ${now}::timestamptz - target_seconds * interval '1 second'),
             ${secondsSinceSql(now, Prisma.sql`min(oldest)`)}
        FROM age GROUP BY ord`);
    const empty = () =>
      Object.fromEntries(horizons.map((h) => [h.name, null])) as Record<HorizonName, number | null>;
    const products = new Map<number, { rank: number; ages: Record<HorizonName, number | null> }>();
    const byHorizon = {} as HorizonFreshness['byHorizon'];
    for (const h of horizons) {
      byHorizon[h.name] = { oldestAgeSeconds: null, productsNeverSynced: 0, productsOverTarget: 0 };
    }
    for (const r of rows) {
      const name = horizons[Number(r.ord) - 1].name;
      if (r.product_id === null) {
        byHorizon[name] = {
          oldestAgeSeconds: r.oldest,
          productsNeverSynced: Number(r.incomplete ?? 0),
          productsOverTarget: Number(r.over_target ?? 0),
        };
        continue;
      }
      let p = products.get(r.product_id);
      if (!p) products.set(r.product_id, (p = { rank: Number(r.rank), ages: empty() }));
      p.ages[name] = r.age;
    }
    return {
      worst: [...products.entries()]
        .sort((a, b) => a[1].rank - b[1].rank)
        .map(([productId, p]) => ({ productId, oldestAgeSeconds: p.ages })),
      byHorizon,
    };
  }

  /**
   * Per range of day offsets from `today`: the oldest success, how many product-dates ever
   * succeeded and how many are due (the data gauges). One statement for all ranges.
   */
  async rangeStats(
    productIds: readonly number[],
    today: string,
    ranges: ReadonlyArray<{ fromDay: number; toDay: number }>,
  ): Promise<RangeStats[]> {
    const rows = await this.prisma.withoutParallelWorkers(this.prisma.$queryRaw<
      Array<{ ord: bigint; oldest: Date | null; synced: bigint; due: bigint }>
    >`
      SELECT r.ord, min(s.last_success_at) AS oldest,
             count(s.last_success_at) AS synced,
             count(s.due_since) AS due
        FROM unnest(${ranges.map((r) => r.fromDay)}::int[], ${ranges.map((r) => r.toDay)}::int[])
               WITH ORDINALITY AS r(from_day, to_day, ord)
        LEFT JOIN product_date_syncs s
          ON s.product_id = ANY(${[...productIds]}::int[])
         AND s.date BETWEEN ${today}::date + r.from_day AND ${today}::date + r.to_day
       GROUP BY r.ord`);
    const byOrd = new Map(rows.map((r) => [Number(r.ord), r]));
    return ranges.map((_, i) => {
      const r = byOrd.get(i + 1);
      return {
        oldestSuccessAt: r?.oldest ?? null,
        synced: Number(r?.synced ?? 0),
        due: Number(r?.due ?? 0),
      };
    });
  }
}
