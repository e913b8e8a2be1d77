import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DatabaseOutage } from '../../core/database/database-outage';
import { RateLimiterService } from '../../core/rate-limiter/rate-limiter.service';
import { SyncControlRepository, type SyncControlRow } from './sync-control.repository';
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
 * every instance. While paused the dispatcher takes nothing from the due list and the limiter
 * refuses to start partner calls (a start guard); the few jobs the limiter was holding are handed
 * back (they stay due). Calls already in flight finish and are stored. Nothing is dropped:
 * resume continues the same due list.
 */
@Injectable()
export class SyncControlService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SyncControlService.name);
  private state: SyncControlState = { paused: false, since: null, by: null, reason: null };
  private timer: NodeJS.Timeout | undefined;
  private readonly resumeListeners: Array<() => void> = [];

  constructor(
    private readonly repository: SyncControlRepository,
    private readonly limiter: RateLimiterService,
    private readonly outage: DatabaseOutage,
  ) {}

  async onModuleInit(): Promise<void> {
    // The row must exist before anyone reads or flips it; a default row means "not paused".
    await this.repository.ensureRow();
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

  /** Called on this instance whenever syncing goes from paused to running (here or elsewhere). */
  onResume(listener: () => void): void {
    this.resumeListeners.push(listener);
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

  /** Re-reads the shared row; a switch either way takes effect on this instance at once. */
  async refresh(): Promise<SyncControlState> {
    try {
      const row = await this.repository.find();
      if (row) this.apply(row);
    } catch (err) {
      // Keep the last known state: a database hiccup must not flip the switch either way.
      if (this.outage.report('sync control', err)) return this.current();
      this.logger.warn({ msg: 'could not read sync control', error: (err as Error).message });
    }
    return this.current();
  }

  private async set(paused: boolean, by: string, reason?: string): Promise<SyncControlChange> {
    const { changed, row } = await this.repository.flip(
      paused,
      by.slice(0, 128),
      reason?.slice(0, 500) ?? null,
    );
    this.apply(row);
    if (changed) this.logger.log({ msg: paused ? 'sync paused' : 'sync resumed', by, reason });
    return { ...this.current(), changed };
  }

  private apply(row: SyncControlRow): void {
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
      const handedBack = this.limiter.clearQueued(new SyncPausedError());
      if (handedBack > 0) {
        this.logger.log({ msg: 'paused: queued partner calls handed back, still due', handedBack });
      }
    }
    if (!row.paused && wasPaused) for (const listener of this.resumeListeners) listener();
  }
}
