import { Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DatabaseOutage } from '../../core/database/database-outage';
import { addDays, todayIn } from '../calendar';
import { SyncControlService } from '../control/sync-control.service';
import { DispatcherService } from '../dispatch/dispatcher.service';
import { DueListRepository, SCHEDULED_PRIORITY } from '../due/due-list.repository';
import { InjectSyncPolicy } from '../policy/sync-policy.provider';
import type { SyncPolicy } from '../policy/sync-policy';
import { InjectLeadership, type Leadership } from './leadership';

/**
 * Why the rule runs. `failed-mark`: a window tick could not mark its product-dates; the rule
 * marks what that tick was for (everything past its target), whatever SYNC_ON_BOOT says.
 */
export type OverdueReason = 'boot' | 'leadership' | 'resume' | 'recovered' | 'failed-mark';

/** A failed application is tried again after 1 s, 2 s, 4 s … at most a minute, until it succeeds. */
export const OVERDUE_RETRY_BASE_MS = 1000;
export const OVERDUE_RETRY_MAX_MS = 60_000;

/** How long the rule waits after its `failures`-th failure in a row before it is applied again. */
export function overdueRetryDelayMs(failures: number): number {
  return Math.min(OVERDUE_RETRY_MAX_MS, OVERDUE_RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * The one catch-up rule, whatever happened before (restart, SIGKILL, failover, a long pause, a
 * database outage, a window tick whose mark failed): every product-date of the configured
 * products (today .. +59) whose data is older than its policy target, or was never synced, is
 * marked due; marks of removed products and of past dates are dropped. Applied at boot, on gaining leadership, on resume and when the
 * database is back. An application that fails is retried with a growing delay (an outage's end
 * applies it anyway), so a catch-up is never lost to one failed statement.
 */
@Injectable()
export class OverdueRuleService {
  private readonly logger = new Logger(OverdueRuleService.name);
  private unsubscribeRecovery: (() => void) | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed applications in a row (0 after a success). */
  private failures = 0;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly control: SyncControlService,
    private readonly dueList: DueListRepository,
    private readonly dispatcher: DispatcherService,
    private readonly outage: DatabaseOutage,
    @InjectSyncPolicy() private readonly policy: SyncPolicy,
    @InjectLeadership() private readonly leadership: Leadership,
  ) {}

  /** Applies the rule on every resume and at the end of every database outage. */
  watch(): void {
    this.control.onResume(() => void this.apply('resume'));
    // What went stale during a database outage is marked at once, not at the next ticks.
    this.unsubscribeRecovery = this.outage.onRecovered(() => void this.apply('recovered'));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribeRecovery?.();
    clearTimeout(this.retryTimer);
  }

  async apply(reason: OverdueReason): Promise<void> {
    if (!this.leadership.isLeader() || this.stopped) return;
    // This application stands in for a retry still waiting.
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const { productIds, timeZone, onBoot } = this.config.sync;
    const today = todayIn(timeZone);
    const startedAt = Date.now();
    try {
      const dropped = await this.dueList.dropOutside(productIds, today);
      if (!onBoot && (reason === 'boot' || reason === 'leadership')) {
        this.failures = 0;
        if (dropped > 0) this.logger.log({ msg: 'dropped due product-dates', dropped });
        return;
      }
      const marked = await this.dueList.markDue({
        scope: { productIds, from: today, to: addDays(today, this.policy.lastDay) },
        reason: 'boot',
        priority: SCHEDULED_PRIORITY,
        freshSince: null,
        today,
        policy: this.policy,
      });
      this.failures = 0;
      this.logger.log({
        msg: 'overdue product-dates marked due',
        reason,
        due: marked.due,
        dropped,
        durationMs: Date.now() - startedAt,
      });
      this.dispatcher.marked();
    } catch (err) {
      // The end of an outage applies the rule again (watch): no timer of its own then.
      if (this.outage.report('catch-up', err)) return;
      this.failures++;
      const retryInMs = overdueRetryDelayMs(this.failures);
      this.logger.error({
        msg: 'could not apply the overdue rule',
        reason,
        error: (err as Error).message,
        attempt: this.failures,
        retryInMs,
      });
      this.retryLater(reason, retryInMs);
    }
  }

  /** Applies the rule after the next retry delay (a window tick whose mark failed asks this). */
  applySoon(reason: OverdueReason): void {
    this.retryLater(reason, overdueRetryDelayMs(this.failures + 1));
  }

  private retryLater(reason: OverdueReason, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.apply(reason), delayMs);
    this.retryTimer.unref();
  }
}
