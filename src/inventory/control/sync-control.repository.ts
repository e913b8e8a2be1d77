import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';

/** The single sync_control row as stored. */
export interface SyncControlRow {
  paused: boolean;
  changedAt: Date;
  changedBy: string | null;
  reason: string | null;
}

const ROW_ID = 1;

/** The sync_control table: one row holding the cluster-wide pause switch. */
@Injectable()
export class SyncControlRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates the row ("not paused") unless it exists, in one statement: instances booting
   * together on an empty database must not race (a read-then-insert upsert did).
   */
  async ensureRow(): Promise<void> {
    await this.prisma
      .$executeRaw`INSERT INTO sync_control (id) VALUES (${ROW_ID}) ON CONFLICT (id) DO NOTHING`;
  }

  find(): Promise<SyncControlRow | null> {
    return this.prisma.syncControl.findUnique({ where: { id: ROW_ID } });
  }

  /**
   * Flips the switch only when it is in the other position, so only the request that actually
   * flips it moves changed_at/by. Returns whether it flipped and the row after the change.
   */
  async flip(
    paused: boolean,
    by: string,
    reason: string | null,
  ): Promise<{ changed: boolean; row: SyncControlRow }> {
    const { count } = await this.prisma.syncControl.updateMany({
      where: { id: ROW_ID, paused: !paused },
      data: { paused, changedAt: new Date(), changedBy: by, reason },
    });
    const row = await this.prisma.syncControl.findUniqueOrThrow({ where: { id: ROW_ID } });
    return { changed: count > 0, row };
  }
}
