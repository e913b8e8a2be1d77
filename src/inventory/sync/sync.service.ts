import { Injectable, Logger, Optional } from '@nestjs/common';
import {
  DatabaseOutageReporter,
  DatabaseUnavailableError,
  publicErrorMessage,
} from '../../common/database-unavailable';
import type { JobPriority } from '../../core/rate-limiter/rate-limiter.types';
import { PartnerError, PartnerInvalidPayloadError } from '../../partner/partner-errors';
import { PartnerGateway } from '../../partner/partner-gateway.service';
import type { PartnerInventory } from '../../partner/partner.types';
import { NotAttemptedError } from '../../common/domain-error';
import { InventoryEvents } from '../inventory-events';
import { ProductDateStore, type FetchAttempt } from './product-date-store';
import { SlotDateConflictError } from './slot-date-conflict.error';
import { StaleWriteError } from './stale-write.error';

/** How one syncProductDate ended. */
export type SyncOutcome =
  /** Stored: rows were created, updated or deleted. */
  | 'changed'
  /** Same content as stored (hash equal): no slot or pax row written. */
  | 'unchanged'
  /** Not attempted: syncing is paused, or this instance is not the one talking to the partner. */
  | 'skipped'
  /** The fetch or the store failed; stored slots are untouched. */
  | 'failed'
  /**
   * Fetched but refused by the store as stale: this instance no longer holds the lease term it
   * fetched under, or newer data is stored. Nothing was written (the due mark is untouched).
   */
  | 'stale';

export interface SyncResult {
  productId: number;
  date: string;
  outcome: SyncOutcome;
  /** The partner outcome label of a failure (rate_limited, invalid_payload…), else null. */
  errorOutcome: string | null;
  error: string | null;
  durationMs: number;
}

/**
 * Errors that mean "no attempt was made" (pause guard, not the leader, shutdown, a key's breaker
 * open, a 429 or a rejected key the limiter handed back): they leave no trace, and the
 * product-date stays due as it was, without a failure backoff.
 */
function isSkip(err: unknown): boolean {
  // DatabaseUnavailableError: the outage guard refused the call (nothing could be stored).
  return err instanceof NotAttemptedError || err instanceof DatabaseUnavailableError;
}

/** The sync-record label of a failure, by its class; anything else failed in the store. */
function errorOutcome(err: unknown): string {
  if (err instanceof PartnerError || err instanceof SlotDateConflictError) return err.outcome;
  return 'store_failed';
}

/** Stored and shown on open endpoints (status, freshness): database details stay in the logs. */
function errorMessage(err: unknown): string {
  return publicErrorMessage(err).slice(0, 2000);
}

/**
 * One product-date's fetch and store: fetches it through the partner gateway (and so the rate
 * limiter), hands the answer to the ProductDateStore (one transaction that also clears its due
 * mark), and records a failed attempt (the product-date stays due, with a backoff; stored slots
 * are left alone).
 */
@Injectable()
export class SyncService {
  private readonly logger = new Logger(SyncService.name);

  constructor(
    private readonly productDates: ProductDateStore,
    private readonly gateway: PartnerGateway,
    private readonly events: InventoryEvents,
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {}

  /**
   * Syncs one product-date. The dispatcher never hands out a product-date twice at once, and
   * the partner gateway joins concurrent callers of the same product-date, so this fetches once.
   */
  syncProductDate(productId: number, date: string, priority: JobPriority): Promise<SyncResult> {
    return this.fetchAndStore(productId, date, priority);
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
      errorOutcome: err === null ? null : errorOutcome(err),
      error: err === null ? null : errorMessage(err),
      durationMs: Date.now() - started,
    });

    let inventory: PartnerInventory;
    // The fetch's start and lease term: what its store (or failure record) must prove.
    const attempt = this.productDates.beginAttempt();
    try {
      inventory = await this.gateway.fetchInventory(productId, date, priority);
    } catch (err) {
      if (isSkip(err)) return result('skipped', err);
      if (!(await this.recordFailure(productId, date, attempt, err))) return result('stale', err);
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
      const changed = await this.productDates.store(productId, date, inventory, attempt);
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
      if (err instanceof StaleWriteError) {
        this.rejected(err);
        return result('stale', err);
      }
      if (!(await this.recordFailure(productId, date, attempt, err))) return result('stale', err);
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
   * A failed attempt moves only the attempt bookkeeping; slots and the content hash stay.
   * False when refused as stale (a deposed leader's, or older than the stored data's fetch).
   */
  private async recordFailure(
    productId: number,
    date: string,
    attempt: FetchAttempt,
    err: unknown,
  ): Promise<boolean> {
    try {
      await this.productDates.recordFailure(productId, date, attempt, {
        outcome: errorOutcome(err),
        error: errorMessage(err),
      });
    } catch (recordErr) {
      if (recordErr instanceof StaleWriteError) {
        this.rejected(recordErr);
        return false;
      }
      if (this.outage?.report('sync failure record', recordErr)) return true;
      this.logger.warn({
        msg: 'could not record sync failure',
        productId,
        date,
        error: errorMessage(recordErr),
      });
    }
    return true;
  }

  /** One line and one count per refused write; nothing else happens (no event, no record). */
  private rejected(err: StaleWriteError): void {
    const { productId, date, reason } = err;
    this.logger.warn({ msg: 'stale write rejected', productId, date, reason, error: err.message });
    this.events.emitStaleWriteRejected({ productId, date, reason });
  }
}
