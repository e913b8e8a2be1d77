import { NotAttemptedError } from '../common/domain-error';

/**
 * This instance does not hold the sync leader lease (or can no longer prove it does), so it must
 * not run schedules or spend partner budget. Reaching HTTP only if a caller forgot to route the
 * work to the leader: 503, the work can be retried on the leader.
 */
export class NotLeaderError extends NotAttemptedError {
  readonly httpStatus = 503;

  constructor(
    readonly instanceId: string,
    readonly leaderId: string | null,
  ) {
    super(
      `instance ${instanceId} is not the sync leader` +
        (leaderId ? ` (the leader is ${leaderId})` : ' (no instance holds the lease right now)'),
    );
  }
}
