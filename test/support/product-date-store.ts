import { loadConfig, type AppConfig } from '../../src/config/app-config';
import type { PrismaService } from '../../src/core/prisma.service';
import { ChangeObservationsRepository } from '../../src/inventory/accuracy/change-observations.repository';
import { ChangeEventsRepository } from '../../src/inventory/changes/change-events.repository';
import { DueListRepository } from '../../src/inventory/due/due-list.repository';
import { SlotAnswersRepository } from '../../src/inventory/read/slot-answers.repository';
import type { Leadership } from '../../src/inventory/schedule/leadership';
import { ProductDateStore } from '../../src/inventory/sync/product-date-store';

/**
 * The store as the inventory module wires it, on `prisma`: every repository its transaction
 * writes through, each replaceable when a suite needs to hold or watch one.
 */
export function productDateStoreOn(
  prisma: PrismaService,
  parts: {
    dueList?: DueListRepository;
    observations?: ChangeObservationsRepository;
    events?: ChangeEventsRepository;
    leadership?: Leadership;
    /** The learning settings (default: the configuration's defaults). */
    learning?: AppConfig['learning'];
  } = {},
): ProductDateStore {
  return new ProductDateStore(
    prisma,
    parts.dueList ?? new DueListRepository(prisma),
    new SlotAnswersRepository(prisma),
    parts.observations ?? new ChangeObservationsRepository(prisma),
    parts.events ?? new ChangeEventsRepository(prisma),
    { learning: parts.learning ?? loadConfig({}, 'demo').learning },
    parts.leadership,
  );
}
