import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DatabaseOutage } from '../../core/database/database-outage';
import { PrismaService } from '../../core/prisma.service';
import { RateLimiterService } from '../../core/rate-limiter.service';
import { SyncPausedError } from './sync-paused.error';

/** The pause switch as every instance sees it. */
export interface SyncControlState {
  paused: boolean;
  /** When the current state began (ISO); null before anyone ever paused. */
  since: string | null;
  /** Who made the last change. */
  by: string | null;
  reason: string | null;
}

export interface SyncControlChange extends SyncControlState {
  /** False when the switch already was in the requested position (pausing twice is fine). */
  changed: boolean;
}

/** How often the shared row is read: a pause made on another instance is seen within 1 s. */
export const CONTROL_POLL_MS = 500;

/**
 * Pause/resume, stored in the single sync_control row so it survives restarts and holds for
 * every instance. While paused the limiter refuses to start partner calls (a start guard), and
 * queued calls are dropped on the spot: the next window tick (or resume + run) plans them again
 * from fresh state, which is simpler and safer than holding stale work. Calls already in flight
 * finish and are stored.
 */
@Injectable()
export class SyncControlService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SyncControlService.name);
  private state: SyncControlState = { paused: false, since: null, by: null, reason: null };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prisma: PrismaService,
    private readonly limiter: RateLimiterService,
    private readonly outage: DatabaseOutage,
  ) {}

  async onModuleInit(): Promise<void> {
    // The row must exist before anyone reads or flips it; a default row means "not paused".
    await this.prisma.syncControl.upsert({ where: { id: 1 }, create: { id: 1 }, update: {} });
    this.limiter.addStartGuard(() => {
      if (this.state.paused) throw new SyncPausedError();
    });
    // A partner answer that cannot be stored is a budget turn lost: none are taken while the
    // database is down; the scheduler catches up once it is back.
    this.limiter.addStartGuard(() => this.outage.assertAvailable());
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), CONTROL_POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The state as last read (at most CONTROL_POLL_MS old, or fresh after a change here). */
  current(): SyncControlState {
    return { ...this.state };
  }

  isPaused(): boolean {
    return this.state.paused;
  }

  pause(by: string, reason?: string): Promise<SyncControlChange> {
    return this.set(true, by, reason);
  }

  /**
   * Resumes syncing and clears a partner hold (429 or 401), even when syncing was not paused:
   * the operator's documented way to end a hold they know is stale.
   */
  async resume(by: string, reason?: string): Promise<SyncControlChange> {
    const change = await this.set(false, by, reason);
    this.limiter.clearHold(by);
    return change;
  }

  /** Re-reads the shared row; on a switch to paused, drops this instance's queued calls. */
  async refresh(): Promise<SyncControlState> {
    try {
      const row = await this.prisma.syncControl.findUnique({ where: { id: 1 } });
      if (row) this.apply(row);
    } catch (err) {
      // Keep the last known state: a database hiccup must not flip the switch either way.
      if (this.outage.report('sync control', err)) return this.current();
      this.logger.warn({ msg: 'could not read sync control', error: (err as Error).message });
    }
    return this.current();
  }

  private async set(paused: boolean, by: string, reason?: string): Promise<SyncControlChange> {
    // Conditional update: only the request that actually flips the switch moves changed_at/by.
    const { count } = await this.prisma.syncControl.updateMany({
      where: { id: 1, paused: !paused },
      data: {
        paused,
        changedAt: new Date(),
        changedBy: by.slice(0, 128),
        reason: reason?.slice(0, 500) ?? null,
      },
    });
    const row = await this.prisma.syncControl.findUniqueOrThrow({ where: { id: 1 } });
    this.apply(row);
    if (count > 0) this.logger.log({ msg: paused ? 'sync paused' : 'sync resumed', by, reason });
    return { ...this.current(), changed: count > 0 };
  }

  private apply(row: {
    paused: boolean;
    changedAt: Date;
    changedBy: string | null;
    reason: string | null;
  }): void {
    const wasPaused = this.state.paused;
    const everChanged = row.changedBy !== null;
    this.state = {
      paused: row.paused,
      since: everChanged || row.paused ? row.changedAt.toISOString() : null,
      by: row.changedBy,
      reason: row.reason,
    };
    // A resume made on another instance reaches the leader's limiter here.
    if (!row.paused && wasPaused) this.limiter.clearHold(row.changedBy ?? 'resume');
    if (row.paused && !wasPaused) {
      const dropped = this.limiter.clearQueued(new SyncPausedError());
      if (dropped > 0) this.logger.log({ msg: 'dropped queued partner calls on pause', dropped });
    }
  }
}
