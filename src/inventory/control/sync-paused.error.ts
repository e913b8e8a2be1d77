import { NotAttemptedError } from '../../common/domain-error';

/**
 * Syncing is paused: thrown by the limiter's start guard (the job never spent budget) and to a
 * manual trigger while paused. `outcome` marks it as "not attempted" for the sync records.
 */
export class SyncPausedError extends NotAttemptedError {
  readonly httpStatus = 409;
  readonly outcome = 'paused' as const;

  constructor(message = 'Sync is paused; POST /api/v1/experience/sync/resume to resume') {
    super(message);
  }
}
