import { Injectable, Logger, Optional } from '@nestjs/common';
import {
  DatabaseOutageReporter,
  DatabaseUnavailableError,
  publicErrorMessage,
} from '../../common/database-unavailable';
import type { JobPriority } from '../../core/rate-limiter.types';
import { PrismaService } from '../../core/prisma.service';
import { PartnerInvalidPayloadError } from '../../partner/partner-errors';
import { PartnerGateway } from '../../partner/partner-gateway.service';
import type { PartnerCallOutcome, PartnerInventory } from '../../partner/partner.types';
import { daysBetween, toDbDate } from '../calendar';
import { InventoryEvents } from '../inventory-events';
import { productDateKey } from '../schedule/windows';
import { inventoryHash, storeColumns, storeTimeoutMs } from './inventory-diff';
import { SlotDateConflictError } from './slot-date-conflict.error';
import { writeProductDate } from './slot-store';

/** How one syncProductDate ended. */
export type SyncOutcome =
  /** Stored: rows were created, updated or deleted. */
  | 'changed'
  /** Same content as stored (hash equal): no slot or pax row written. */
  | 'unchanged'
  /** Not attempted: syncing is paused, or this instance is not the one talking to the partner. */
  | 'skipped'
  /** The fetch or the store failed; stored slots are untouched. */
  | 'failed';

export interface SyncResult {
  productId: number;
  date: string;
  outcome: SyncOutcome;
  /** True when this call joined a sync of the same product-date already queued or running. */
  deduplicated: boolean;
  /** The partner outcome label of a failure (rate_limited, invalid_payload…), else null. */
  errorOutcome: string | null;
  error: string | null;
  durationMs: number;
}

/** Errors that mean "no attempt was made" (pause guard, not the leader): they leave no trace. */
function isSkip(err: unknown): boolean {
  const outcome = (err as { outcome?: unknown } | null)?.outcome;
  // LimiterShutdownError: the queue is draining for shutdown and the job was never started.
  // DatabaseUnavailableError: the outage guard refused the call (nothing could be stored).
  return (
    err instanceof DatabaseUnavailableError ||
    outcome === 'paused' ||
    outcome === 'not_leader' ||
    (err as Error | null)?.name === 'LimiterShutdownError'
  );
}

function errorOutcome(err: unknown): string {
  const outcome = (err as { outcome?: unknown } | null)?.outcome;
  return typeof outcome === 'string' ? outcome : 'store_failed';
}

/** Stored and shown on open endpoints (status, freshness): database details stay in the logs. */
function errorMessage(err: unknown): string {
  return publicErrorMessage(err).slice(0, 2000);
}

const DAY_EPOCH = '1970-01-01';
/** How long a store may wait for a pooled connection before it fails (and is retried later). */
const STORE_MAX_WAIT_MS = 10_000;

/**
 * Fetches one product-date through the partner gateway (and so the rate limiter) and stores it in
 * one transaction: only changed rows are written, and a failed fetch leaves stored slots alone.
 */
@Injectable()
export class SyncService {
  private readonly logger = new Logger(SyncService.name);
  /** Syncs queued or running in this process, by product-date: a second caller joins the first. */
  private readonly inFlight = new Map<string, Promise<SyncResult>>();
  /** Last successful sync per product-date (start time), for windows firing at the same instant. */
  private readonly recent = new Map<string, { startedAt: number; result: SyncResult }>();
  private lastPrune = Date.now();

  constructor(
    private readonly prisma: PrismaService,
    private readonly gateway: PartnerGateway,
    private readonly events: InventoryEvents,
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {}

  /** Product-dates whose sync is queued or running in this process. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Syncs one product-date. A sync of the same product-date already queued or running is joined
   * (one partner call); with `shareSince`, so is a successful one started at or after that instant,
   * which is how windows firing together (00:00) cost 30 calls per product, not 38.
   */
  syncProductDate(
    productId: number,
    date: string,
    priority: JobPriority,
    options: { shareSince?: Date } = {},
  ): Promise<SyncResult> {
    const key = productDateKey(productId, date);
    const running = this.inFlight.get(key);
    if (running) return running.then((r) => ({ ...r, deduplicated: true }));
    const done = this.recent.get(key);
    if (options.shareSince && done && done.startedAt >= options.shareSince.getTime()) {
      return Promise.resolve({ ...done.result, deduplicated: true });
    }
    const startedAt = Date.now();
    const sync = this.fetchAndStore(productId, date, priority).then((r) => {
      if (r.outcome === 'changed' || r.outcome === 'unchanged') {
        this.recent.set(key, { startedAt, result: r });
        this.pruneRecent();
      }
      return r;
    });
    const tracked = sync.finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, tracked);
    return tracked;
  }

  private pruneRecent(): void {
    const now = Date.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    // Only same-instant sharing needs them; an hour is far longer than any run.
    for (const [key, { startedAt }] of this.recent) {
      if (now - startedAt > 3_600_000) this.recent.delete(key);
    }
  }

  private async fetchAndStore(
    productId: number,
    date: string,
    priority: JobPriority,
  ): Promise<SyncResult> {
    const started = Date.now();
    const result = (outcome: SyncOutcome, err: unknown = null): SyncResult => ({
      productId,
      date,
      outcome,
      deduplicated: false,
      errorOutcome: err === null ? null : errorOutcome(err),
      error: err === null ? null : errorMessage(err),
      durationMs: Date.now() - started,
    });

    let inventory: PartnerInventory;
    const attemptAt = new Date();
    try {
      inventory = await this.gateway.fetchInventory(productId, date, priority);
    } catch (err) {
      if (isSkip(err)) return result('skipped', err);
      await this.recordFailure(productId, date, attemptAt, err);
      const r = result('failed', err);
      this.logger.warn({
        msg: 'sync failed',
        productId,
        date,
        outcome: r.errorOutcome,
        error: r.error,
      });
      return r;
    }
    try {
      const changed = await this.store(productId, date, inventory, attemptAt);
      if (changed) this.events.emitProductDateChanged({ productId, date });
      const r = result(changed ? 'changed' : 'unchanged');
      this.logger.debug({
        msg: 'synced',
        productId,
        date,
        durationMs: r.durationMs,
        outcome: r.outcome,
      });
      return r;
    } catch (err) {
      await this.recordFailure(productId, date, attemptAt, err);
      const r = result('failed', err);
      const log = {
        msg: 'sync store failed',
        productId,
        date,
        outcome: r.errorOutcome,
        error: r.error,
      };
      // An answer the store refuses is the partner's data problem, not ours.
      if (err instanceof PartnerInvalidPayloadError || err instanceof SlotDateConflictError) {
        this.logger.warn(log);
      } else if (!this.outage?.report('sync store', err)) {
        this.logger.error(log);
      }
      return r;
    }
  }

  /**
   * Stores one validated answer in one transaction. Returns true when slot or pax rows changed.
   * The database compares the answer with what is stored (not with the last answer's hash), so a
   * product-date whose rows diverged is repaired by the next good sync, and an equal one writes
   * nothing. Exported for tests that need to drive storage without a partner.
   */
  async store(
    productId: number,
    date: string,
    inventory: PartnerInventory,
    attemptAt: Date = new Date(),
  ): Promise<boolean> {
    const columns = storeColumns(date, inventory);
    const hash = inventoryHash(inventory);
    const dbDate = toDbDate(date);
    return this.prisma.$transaction(
      async (tx) => {
        // Serialises stores of one product-date across processes (a manual run on another
        // instance, a restart racing a late answer); transaction-scoped, so a crash releases it.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${productId}::int, ${daysBetween(DAY_EPOCH, date)}::int)`;
        const state = await tx.productDateSync.findUnique({
          where: { productId_date: { productId, date: dbDate } },
          select: { lastSuccessAt: true },
        });
        const changed = (await writeProductDate(tx, productId, date, columns)) > 0;
        // A first success changes what is known even when the day is empty (no row to write).
        const known = changed || !state?.lastSuccessAt;
        const now = new Date();
        const sync = {
          lastAttemptAt: attemptAt,
          lastSuccessAt: now,
          lastOutcome: known ? 'changed' : 'unchanged',
          lastError: null,
          contentHash: hash,
          slotCount: inventory.length,
          ...(known ? { lastChangedAt: now } : {}),
        };
        await tx.productDateSync.upsert({
          where: { productId_date: { productId, date: dbDate } },
          create: { productId, date: dbDate, ...sync },
          update: sync,
        });
        return changed;
      },
      {
        timeout: storeTimeoutMs(columns.slots.providerSlotId.length, columns.pax.type.length),
        maxWait: STORE_MAX_WAIT_MS,
      },
    );
  }

  /** A failed attempt moves only the attempt bookkeeping; slots and the content hash stay. */
  private async recordFailure(
    productId: number,
    date: string,
    attemptAt: Date,
    err: unknown,
  ): Promise<void> {
    const data = {
      lastAttemptAt: attemptAt,
      lastOutcome: errorOutcome(err) as PartnerCallOutcome | 'store_failed',
      lastError: errorMessage(err),
    };
    try {
      await this.prisma.productDateSync.upsert({
        where: { productId_date: { productId, date: toDbDate(date) } },
        create: { productId, date: toDbDate(date), ...data },
        update: data,
      });
    } catch (recordErr) {
      if (this.outage?.report('sync failure record', recordErr)) return;
      this.logger.warn({
        msg: 'could not record sync failure',
        productId,
        date,
        error: errorMessage(recordErr),
      });
    }
  }
}
