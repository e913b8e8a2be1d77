import { Injectable, Logger } from '@nestjs/common';
import type { JobPriority } from '../../core/rate-limiter.types';
import { PrismaService } from '../../core/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { PartnerGateway } from '../../partner/partner-gateway.service';
import type { PartnerInventory } from '../../partner/partner.types';
import { daysBetween, fromDbDate, toDbDate } from '../calendar';
import { NotAttemptedError } from '../../common/domain-error';
import { PartnerBreakerOpenError } from '../../partner/partner-errors';
import { DueListRepository } from '../due/due-list.repository';
import { InventoryEvents } from '../inventory-events';
import {
  diffInventory,
  inventoryHash,
  isEmptyDiff,
  type InventoryDiff,
  type StoredSlot,
} from './inventory-diff';

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
  /** The partner outcome label of a failure (rate_limited, invalid_payload…), else null. */
  errorOutcome: string | null;
  error: string | null;
  durationMs: number;
}

/**
 * Errors that mean "no attempt was made" (pause guard, not the leader, shutdown, breaker open):
 * they leave no trace, and the product-date stays due as it was.
 */
function isSkip(err: unknown): boolean {
  return err instanceof NotAttemptedError || err instanceof PartnerBreakerOpenError;
}

function errorOutcome(err: unknown): string {
  const outcome = (err as { outcome?: unknown } | null)?.outcome;
  return typeof outcome === 'string' ? outcome : 'store_failed';
}

function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}

const DAY_EPOCH = '1970-01-01';

/**
 * Fetches one product-date through the partner gateway (and so the rate limiter) and stores it in
 * one transaction that also clears its due mark: only changed rows are written, and a failed
 * fetch leaves stored slots alone (the product-date stays due, with a backoff).
 */
@Injectable()
export class SyncService {
  private readonly logger = new Logger(SyncService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly gateway: PartnerGateway,
    private readonly events: InventoryEvents,
    private readonly dueList: DueListRepository,
  ) {}

  /**
   * Syncs one product-date. The dispatcher never hands out a product-date twice at once, and
   * the limiter joins concurrent callers of the same product-date, so this fetches once.
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
      this.logger.error({ msg: 'sync store failed', productId, date, error: r.error });
      return r;
    }
  }

  /**
   * Stores one validated answer in one transaction. Returns true when slot or pax rows changed.
   * Exported for tests that need to drive storage without a partner.
   */
  async store(
    productId: number,
    date: string,
    inventory: PartnerInventory,
    attemptAt: Date = new Date(),
  ): Promise<boolean> {
    const hash = inventoryHash(inventory);
    const dbDate = toDbDate(date);
    return this.prisma.$transaction(async (tx) => {
      // Serialises stores of one product-date across processes (a manual run on another
      // instance, a restart racing a late answer); transaction-scoped, so a crash releases it.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${productId}::int, ${daysBetween(DAY_EPOCH, date)}::int)`;
      const state = await tx.productDateSync.findUnique({
        where: { productId_date: { productId, date: dbDate } },
        select: { contentHash: true },
      });
      const now = new Date();
      await this.dueList.clearInTransaction(tx, productId, dbDate, attemptAt);
      if (state?.contentHash === hash) {
        await tx.productDateSync.update({
          where: { productId_date: { productId, date: dbDate } },
          data: {
            lastAttemptAt: attemptAt,
            lastSuccessAt: now,
            lastOutcome: 'unchanged',
            lastError: null,
          },
        });
        return false;
      }
      const stored = await tx.slot.findMany({
        where: {
          productId,
          OR: [
            { date: dbDate },
            { providerSlotId: { in: inventory.map((s) => s.providerSlotId) } },
          ],
        },
        include: { pax: true },
      });
      const diff = diffInventory(date, stored.map(toStoredSlot), inventory);
      await applyDiff(tx, productId, diff);
      const changed = !isEmptyDiff(diff);
      const sync = {
        lastAttemptAt: attemptAt,
        lastSuccessAt: now,
        lastOutcome: 'changed',
        lastError: null,
        contentHash: hash,
        slotCount: inventory.length,
        ...(changed || !state ? { lastChangedAt: now } : {}),
      };
      await tx.productDateSync.upsert({
        where: { productId_date: { productId, date: dbDate } },
        create: { productId, date: dbDate, ...sync },
        update: sync,
      });
      return changed;
    });
  }

  /** A failed attempt moves only the attempt bookkeeping; slots and the content hash stay. */
  private async recordFailure(
    productId: number,
    date: string,
    attemptAt: Date,
    err: unknown,
  ): Promise<void> {
    try {
      await this.dueList.recordFailure({
        productId,
        date: toDbDate(date),
        attemptAt,
        outcome: errorOutcome(err),
        error: errorMessage(err),
      });
    } catch (recordErr) {
      this.logger.warn({
        msg: 'could not record sync failure',
        productId,
        date,
        error: errorMessage(recordErr),
      });
    }
  }
}

type StoredRow = Prisma.SlotGetPayload<{ include: { pax: true } }>;

function toStoredSlot(row: StoredRow): StoredSlot {
  return {
    id: row.id,
    date: fromDbDate(row.date),
    startTime: row.startTime,
    endTime: row.endTime,
    providerSlotId: row.providerSlotId,
    variantId: row.variantId,
    remaining: row.remaining,
    currencyCode: row.currencyCode,
    pax: row.pax.map((p) => ({
      id: p.id,
      type: p.type,
      position: p.position,
      name: p.name,
      description: p.description,
      min: p.min,
      max: p.max,
      remaining: p.remaining,
      isPrimary: p.isPrimary,
      finalPrice: p.finalPrice.toString(),
      originalPrice: p.originalPrice.toString(),
      discount: p.discount.toString(),
      currencyCode: p.currencyCode,
    })),
  };
}

async function applyDiff(
  tx: Prisma.TransactionClient,
  productId: number,
  diff: InventoryDiff,
): Promise<void> {
  if (diff.deleteSlotIds.length > 0) {
    // Pax rows go with their slot (ON DELETE CASCADE).
    await tx.slot.deleteMany({ where: { id: { in: diff.deleteSlotIds } } });
  }
  for (const u of diff.updateSlots) {
    if (u.fields) {
      await tx.slot.update({
        where: { id: u.id },
        data: { ...u.fields, date: toDbDate(u.fields.date) },
      });
    }
    if (u.pax.deleteIds.length > 0)
      await tx.paxAvailability.deleteMany({ where: { id: { in: u.pax.deleteIds } } });
    for (const p of u.pax.update)
      await tx.paxAvailability.update({ where: { id: p.id }, data: p.fields });
    if (u.pax.create.length > 0) {
      await tx.paxAvailability.createMany({
        data: u.pax.create.map((p) => ({ ...p, slotId: u.id })),
      });
    }
  }
  for (const c of diff.createSlots) {
    await tx.slot.create({
      data: {
        ...c.fields,
        date: toDbDate(c.fields.date),
        productId,
        pax: { createMany: { data: c.pax } },
      },
    });
  }
}
