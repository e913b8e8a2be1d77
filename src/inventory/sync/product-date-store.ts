import { Injectable, Optional } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { PrismaService } from '../../core/prisma.service';
import type { Prisma } from '../../generated/prisma/client';
import type { PartnerInventory } from '../../partner/partner.types';
import { ChangeObservationsRepository } from '../accuracy/change-observations.repository';
import { daysBetween, toDbDate } from '../calendar';
import { DueListRepository } from '../due/due-list.repository';
import { observeChange } from '../policy/learned-rates';
import { ChangeEventsRepository } from '../changes/change-events.repository';
import { SlotAnswersRepository } from '../read/slot-answers.repository';
import { InjectLeadership, type Leadership, type LeaseTerm } from '../schedule/leadership';
import { inventoryHash, storeColumns, storeTimeoutMs } from './inventory-diff';
import { writeProductDate } from './slot-store';
import { StaleWriteError } from './stale-write.error';

const DAY_EPOCH = '1970-01-01';
/** How long a store may wait for a pooled connection before it fails (and is retried later). */
const STORE_MAX_WAIT_MS = 10_000;

/** One fetch of a product-date, as its store must prove it: when it began and under which term. */
export interface FetchAttempt {
  readonly startedAt: Date;
  /** The lease term it began under; null without a lease (then only the order is checked). */
  readonly term: LeaseTerm | null;
}

/**
 * The store step of a sync: one validated answer for one product-date becomes its slots and pax,
 * the read API's rendered answer, its sync state and a cleared due mark, all in one transaction.
 * The transaction is fenced: it commits only while this instance holds the lease term the fetch
 * began under, and never replaces data whose fetch began later than this one's.
 */
@Injectable()
export class ProductDateStore {
  constructor(
    private readonly prisma: PrismaService,
    private readonly dueList: DueListRepository,
    private readonly answers: SlotAnswersRepository,
    private readonly observations: ChangeObservationsRepository,
    private readonly changeEvents: ChangeEventsRepository,
    @InjectConfig() private readonly config: Pick<AppConfig, 'learning'>,
    @Optional() @InjectLeadership() private readonly leadership?: Leadership,
  ) {}

  /**
   * Captured when a fetch begins: its start (on the instances' shared clock when there is one)
   * and the lease term it runs under.
   */
  beginAttempt(startedAt?: Date): FetchAttempt {
    return {
      startedAt: startedAt ?? this.leadership?.now?.() ?? new Date(),
      term: this.leadership?.leaseTerm?.() ?? null,
    };
  }

  /**
   * Stores one validated answer in one transaction. Returns true when slot or pax rows changed.
   * The database compares the answer with what is stored (not with the last answer's hash), so a
   * product-date whose rows diverged is repaired by the next good sync, and an equal one writes
   * nothing. Throws StaleWriteError, having written nothing, when the attempt is stale.
   */
  async store(
    productId: number,
    date: string,
    inventory: PartnerInventory,
    attempt: FetchAttempt = this.beginAttempt(),
  ): Promise<boolean> {
    const columns = storeColumns(date, inventory);
    const hash = inventoryHash(inventory);
    const dbDate = toDbDate(date);
    const attemptAt = attempt.startedAt;
    return this.prisma.$transaction(
      async (tx) => {
        // Serialises stores of one product-date across processes (a manual run on another
        // instance, a restart racing a late answer); transaction-scoped, so a crash releases it.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${productId}::int, ${daysBetween(DAY_EPOCH, date)}::int)`;
        const stored = await this.dueList.storedStateInTransaction(tx, productId, dbDate);
        if (stored?.dataFetchedAt && stored.dataFetchedAt > attemptAt) {
          throw new StaleWriteError(productId, date, 'superseded');
        }
        // Stored, recorded and no longer due commit together.
        await this.dueList.clearInTransaction(tx, productId, dbDate, attemptAt);
        // The change feed's event, diffed against the rows before they are written.
        await this.changeEvents.recordInTransaction(tx, productId, date, columns);
        const changed = (await writeProductDate(tx, productId, date, columns)) > 0;
        // Rendered from the rows just written, so a read never sees an answer other than its rows'.
        await this.answers.storeInTransaction(tx, productId, date, changed);
        // What the accuracy estimate and the learned change rate learn from: changed or not
        // since the previous success, after how long (from that success to this ask). A first
        // success has no interval.
        const intervalSeconds = stored?.lastSuccessAt
          ? (attemptAt.getTime() - stored.lastSuccessAt.getTime()) / 1000
          : 0;
        await this.dueList.recordSuccessInTransaction(tx, {
          productId,
          dbDate,
          attemptAt,
          // A first success changes what is known even when the day is empty (no row to write).
          known: changed || !stored?.lastSuccessAt,
          contentHash: hash,
          slotCount: inventory.length,
          // Read and written under the product-date's advisory lock: no other store interleaves.
          changeStats:
            stored && intervalSeconds > 0
              ? observeChange(
                  stored.changeStats,
                  { tauSeconds: intervalSeconds, changed },
                  this.config.learning.changeHalfLifeMs / 1000,
                )
              : undefined,
        });
        if (intervalSeconds > 0) {
          await this.observations.recordInTransaction(tx, {
            productId,
            dbDate,
            observedAt: attemptAt,
            intervalSeconds,
            changed,
          });
        }
        // Last, so the lease row is locked only until the commit that follows.
        await this.proveTerm(tx, productId, date, attempt);
        return changed;
      },
      {
        timeout: storeTimeoutMs(columns.slots.providerSlotId.length, columns.pax.type.length),
        maxWait: STORE_MAX_WAIT_MS,
      },
    );
  }

  /**
   * Records a failed attempt (see DueListRepository.recordFailureInTransaction), fenced like a
   * store: throws StaleWriteError, having written nothing, when the attempt is stale.
   */
  async recordFailure(
    productId: number,
    date: string,
    attempt: FetchAttempt,
    failure: { outcome: string; error: string },
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const recorded = await this.dueList.recordFailureInTransaction(tx, {
        productId,
        date: toDbDate(date),
        attemptAt: attempt.startedAt,
        ...failure,
      });
      if (!recorded) throw new StaleWriteError(productId, date, 'superseded');
      await this.proveTerm(tx, productId, date, attempt);
    });
  }

  /** The fencing token: the lease row must still name this instance in the attempt's term. */
  private async proveTerm(
    tx: Prisma.TransactionClient,
    productId: number,
    date: string,
    attempt: FetchAttempt,
  ): Promise<void> {
    if (attempt.term === null) return;
    const held = (await this.leadership?.holdsLeaseTerm?.(tx, attempt.term)) ?? false;
    if (!held) throw new StaleWriteError(productId, date, 'fenced');
  }
}
