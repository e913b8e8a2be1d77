import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  DatabaseOutageReporter,
  DatabaseUnavailableError,
  isDatabaseUnavailable,
} from '../../common/database-unavailable';

/** While down, the database is probed this often; the first answer ends the outage. */
export const OUTAGE_PROBE_MS = 1000;
/** While down, one summary line this often (the start and the end get a line each). */
export const OUTAGE_SUMMARY_MS = 30_000;

export interface DatabaseOutageState {
  down: boolean;
  /** When the current outage was first noticed (ISO), null while up. */
  since: string | null;
}

/**
 * What this process knows about the database's availability. Anything that catches a database
 * error reports it here: the first report of an unavailable database starts an outage (one warn
 * line with the error, details kept in the logs), further reports are only counted and summarised
 * every OUTAGE_SUMMARY_MS, and a probe every OUTAGE_PROBE_MS ends it (one line, then the
 * `onRecovered` listeners run). Features read `isDown()` to stop work that needs to store
 * (the sync's partner calls) and to answer from what they know.
 */
@Injectable()
export class DatabaseOutage extends DatabaseOutageReporter implements OnModuleDestroy {
  private readonly logger = new Logger(DatabaseOutage.name);
  private downSince: number | null = null;
  private probe: (() => Promise<boolean>) | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private probing = false;
  /** Failures by source: since the last summary, and over the whole outage. */
  private sinceSummary = new Map<string, number>();
  private total = 0;
  private readonly recoveredListeners = new Set<() => void>();
  private closed = false;

  /** How availability is checked while down (PrismaService registers a `SELECT 1`). */
  useProbe(probe: () => Promise<boolean>): void {
    this.probe = probe;
  }

  report(source: string, err: unknown): boolean {
    if (!isDatabaseUnavailable(err)) return false;
    this.total++;
    this.sinceSummary.set(source, (this.sinceSummary.get(source) ?? 0) + 1);
    if (this.downSince === null && !this.closed) this.begin(source, err);
    return true;
  }

  isDown(): boolean {
    return this.downSince !== null;
  }

  state(): DatabaseOutageState {
    return {
      down: this.downSince !== null,
      since: this.downSince === null ? null : new Date(this.downSince).toISOString(),
    };
  }

  /** Throws DatabaseUnavailableError while an outage lasts (a limiter start guard, for one). */
  assertAvailable(): void {
    if (this.downSince !== null) throw new DatabaseUnavailableError();
  }

  /** Runs `listener` each time an outage ends; returns the function that unregisters it. */
  onRecovered(listener: () => void): () => void {
    this.recoveredListeners.add(listener);
    return () => this.recoveredListeners.delete(listener);
  }

  onModuleDestroy(): void {
    this.closed = true;
    this.stopTimers();
  }

  private begin(source: string, err: unknown): void {
    this.downSince = Date.now();
    this.total = 1;
    this.sinceSummary = new Map([[source, 1]]);
    this.logger.warn({
      msg: 'database unavailable; serving what is known, sync on hold until it is back',
      source,
      error: err instanceof Error ? err.message.trim() : String(err),
    });
    this.probeTimer = setInterval(() => void this.check(), OUTAGE_PROBE_MS);
    this.probeTimer.unref();
    this.summaryTimer = setInterval(() => this.summarise(), OUTAGE_SUMMARY_MS);
    this.summaryTimer.unref();
  }

  private summarise(): void {
    if (this.downSince === null) return;
    this.logger.warn({
      msg: 'database still unavailable',
      downSeconds: Math.round((Date.now() - this.downSince) / 1000),
      failures: Object.fromEntries(this.sinceSummary),
    });
    this.sinceSummary = new Map();
  }

  private async check(): Promise<void> {
    if (this.probing || this.downSince === null || !this.probe) return;
    this.probing = true;
    try {
      if (!(await this.probe()) || this.downSince === null || this.closed) return;
      const downMs = Date.now() - this.downSince;
      this.downSince = null;
      this.stopTimers();
      this.logger.log({
        msg: 'database available again',
        downSeconds: Math.round(downMs / 1000),
        failures: this.total,
      });
      for (const listener of this.recoveredListeners) {
        try {
          listener();
        } catch (err) {
          this.logger.error({ msg: 'outage recovery listener failed', error: String(err) });
        }
      }
    } finally {
      this.probing = false;
    }
  }

  private stopTimers(): void {
    clearInterval(this.probeTimer);
    clearInterval(this.summaryTimer);
    this.probeTimer = undefined;
    this.summaryTimer = undefined;
  }
}
