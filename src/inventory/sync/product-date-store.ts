import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import type { PartnerInventory } from '../../partner/partner.types';
import { daysBetween, toDbDate } from '../calendar';
import { DueListRepository } from '../due/due-list.repository';
import { ChangeEventsRepository } from '../changes/change-events.repository';
import { SlotAnswersRepository } from '../read/slot-answers.repository';
import { inventoryHash, storeColumns, storeTimeoutMs } from './inventory-diff';
import { writeProductDate } from './slot-store';

const DAY_EPOCH = '1970-01-01';
/** How long a store may wait for a pooled connection before it fails (and is retried later). */
const STORE_MAX_WAIT_MS = 10_000;

/**
 * The store step of a sync: one validated answer for one product-date becomes its slots and pax,
 * the read API's rendered answer, its sync state and a cleared due mark, all in one transaction.
 */
@Injectable()
export class ProductDateStore {
  constructor(
    private readonly prisma: PrismaService,
    private readonly dueList: DueListRepository,
    private readonly answers: SlotAnswersRepository,
    private readonly changeEvents: ChangeEventsRepository,
  ) {}

  /**
   * Stores one validated answer in one transaction. Returns true when slot or pax rows changed.
   * The database compares the answer with what is stored (not with the last answer's hash), so a
   * product-date whose rows diverged is repaired by the next good sync, and an equal one writes
   * nothing.
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
        // Stored, recorded and no longer due commit together.
        await this.dueList.clearInTransaction(tx, productId, dbDate, attemptAt);
        const lastSuccessAt = await this.dueList.lastSuccessInTransaction(tx, productId, dbDate);
        // The change feed's event (issue 27), diffed against the rows before they are written.
        await this.changeEvents.recordInTransaction(tx, productId, date, columns);
        const changed = (await writeProductDate(tx, productId, date, columns)) > 0;
        // Rendered from the rows just written, so a read never sees an answer other than its rows'.
        await this.answers.storeInTransaction(tx, productId, date, changed);
        await this.dueList.recordSuccessInTransaction(tx, {
          productId,
          dbDate,
          attemptAt,
          // A first success changes what is known even when the day is empty (no row to write).
          known: changed || !lastSuccessAt,
          contentHash: hash,
          slotCount: inventory.length,
        });
        return changed;
      },
      {
        timeout: storeTimeoutMs(columns.slots.providerSlotId.length, columns.pax.type.length),
        maxWait: STORE_MAX_WAIT_MS,
      },
    );
  }
}
