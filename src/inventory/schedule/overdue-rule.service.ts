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

export type OverdueReason = 'boot' | 'leadership' | 'resume' | 'recovered';

/**
 * The one catch-up rule, whatever happened before (restart, SIGKILL, failover, a long pause, a
 * database outage): every product-date of the configured products (today .. +59) whose data is
 * older than its policy target, or was never synced, is marked due; marks of removed products and
 * of past dates are dropped. Applied at boot, on gaining leadership, on resume and when the
 * database is back.
 */
@Injectable()
export class OverdueRuleService {
  private readonly logger = new Logger(OverdueRuleService.name);
  private unsubscribeRecovery: (() => void) | undefined;
  private stopped = false;

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
  }

  async apply(reason: OverdueReason): Promise<void> {
    if (!this.leadership.isLeader() || this.stopped) return;
    const { productIds, timeZone, onBoot } = this.config.sync;
    const today = todayIn(timeZone);
    try {
      const dropped = await this.dueList.dropOutside(productIds, today);
      if (!onBoot && reason !== 'resume' && reason !== 'recovered') {
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
      this.logger.log({
        msg: 'overdue product-dates marked due',
        reason,
        due: marked.due,
        dropped,
      });
      this.dispatcher.wake();
    } catch (err) {
      if (this.outage.report('catch-up', err)) return;
      this.logger.error({
        msg: 'could not apply the overdue rule',
        reason,
        error: (err as Error).message,
      });
    }
  }
}
