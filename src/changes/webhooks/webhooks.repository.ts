import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/prisma.service';
import type { Prisma } from '../../generated/prisma/client';
import type { ChangeEvent } from '../../inventory/changes/change-events.repository';

/** Subscriptions at most; one more is refused. */
export const MAX_SUBSCRIPTIONS = 100;

export interface StoredSecret {
  secret: string;
  /** ISO time after which it no longer signs (an old secret during a rotation); null: current. */
  expiresAt: string | null;
}

/** A subscription as the admin API lists it: never its secrets. */
export interface SubscriptionStatus {
  id: string;
  url: string;
  eventTypes: string[];
  productIds: number[];
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastSuccessAt: string | null;
  /** Deliveries waiting (or being retried). */
  pending: number;
  /** Deliveries given up on. */
  failed: number;
  /** Age in seconds of the oldest undelivered event; 0 when none waits. */
  lagSeconds: number;
}

/** The subscriptions summed up for GET /sync/status, and every disabled one (no secret). */
export interface WebhooksStatusSummary<Time = Date> {
  enabled: number;
  disabled: number;
  failing: number;
  pending: number;
  lagSeconds: number;
  givenUp: number;
  /** `Time`: the query's JSON holds the time as a string, read into a Date. */
  disabledList: Array<{
    id: string;
    url: string;
    disabledReason: string | null;
    lastError: string | null;
    lastErrorAt: Time | null;
  }>;
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  id: bigint;
  subscriptionId: string;
  msgId: string;
  body: string;
  attempts: number;
  createdAt: Date;
  url: string;
  secrets: StoredSecret[];
}

export class TooManySubscriptionsError extends Error {
  constructor() {
    super(`at most ${MAX_SUBSCRIPTIONS} webhook subscriptions may exist; delete one first`);
    this.name = 'TooManySubscriptionsError';
  }
}

/** The webhook tables (webhook_subscriptions, webhook_deliveries): their one door. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts a subscription unless MAX_SUBSCRIPTIONS exist (checked under a lock: no race). */
  async create(s: {
    id: string;
    url: string;
    eventTypes: string[];
    productIds: number[];
    secret: string;
  }): Promise<Date> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('webhook_subscriptions'))`;
      const [{ n }] = await tx.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM webhook_subscriptions`;
      if (n >= MAX_SUBSCRIPTIONS) throw new TooManySubscriptionsError();
      const secrets: StoredSecret[] = [{ secret: s.secret, expiresAt: null }];
      const [row] = await tx.$queryRaw<Array<{ createdAt: Date }>>`
        INSERT INTO webhook_subscriptions (id, url, event_types, product_ids, secrets)
        VALUES (${s.id}, ${s.url}, ${JSON.stringify(s.eventTypes)}::jsonb,
                ${JSON.stringify(s.productIds)}::jsonb, ${JSON.stringify(secrets)}::jsonb)
        RETURNING created_at AS "createdAt"`;
      return row.createdAt;
    });
  }

  async list(id?: string): Promise<SubscriptionStatus[]> {
    const rows = await this.prisma.$queryRaw<
      Array<
        Omit<SubscriptionStatus, 'createdAt' | 'lastErrorAt' | 'lastSuccessAt'> & {
          createdAt: Date;
          lastErrorAt: Date | null;
          lastSuccessAt: Date | null;
        }
      >
    >`
      SELECT s.id, s.url, s.event_types AS "eventTypes", s.product_ids AS "productIds", s.enabled,
             s.disabled_reason AS "disabledReason", s.created_at AS "createdAt",
             s.consecutive_failures AS "consecutiveFailures", s.last_error AS "lastError",
             s.last_error_at AS "lastErrorAt", s.last_success_at AS "lastSuccessAt",
             coalesce(d.pending, 0)::int AS pending, coalesce(d.failed, 0)::int AS failed,
             coalesce(extract(epoch FROM now() - d.oldest), 0)::float8 AS "lagSeconds"
        FROM webhook_subscriptions s
        LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
                 count(*) FILTER (WHERE state = 'failed') AS failed,
                 min(created_at) FILTER (WHERE state = 'pending') AS oldest
            FROM webhook_deliveries WHERE subscription_id = s.id
        ) d ON true
       WHERE ${id ?? null}::text IS NULL OR s.id = ${id ?? null}::text
       ORDER BY s.created_at, s.id`;
    return rows.map((r) => ({
      ...r,
      createdAt: r.createdAt.toISOString(),
      lastErrorAt: r.lastErrorAt?.toISOString() ?? null,
      lastSuccessAt: r.lastSuccessAt?.toISOString() ?? null,
    }));
  }

  /** For the metrics and status: the oldest undelivered message's age, subscriptions by state. */
  async summary(): Promise<{ lagSeconds: number; enabled: number; disabled: number }> {
    const [r] = await this.prisma.$queryRaw<
      Array<{ lagSeconds: number; enabled: number; disabled: number }>
    >`
      SELECT coalesce((SELECT extract(epoch FROM now() - min(d.created_at))
                         FROM webhook_deliveries d
                         JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
                        WHERE d.state = 'pending'), 0)::float8 AS "lagSeconds",
             (SELECT count(*) FROM webhook_subscriptions WHERE enabled)::int AS enabled,
             (SELECT count(*) FROM webhook_subscriptions WHERE NOT enabled)::int AS disabled`;
    return r;
  }

  /** For GET /sync/status: the subscriptions summed up, and every disabled one (no secret). */
  async statusSummary(): Promise<WebhooksStatusSummary> {
    const [r] = await this.prisma.$queryRaw<Array<WebhooksStatusSummary<string>>>`
      WITH d AS (
        SELECT count(*) FILTER (WHERE d.state = 'pending' AND s.enabled)::int AS pending,
               count(*) FILTER (WHERE d.state = 'failed')::int AS "givenUp",
               min(d.created_at) FILTER (WHERE d.state = 'pending' AND s.enabled) AS oldest
          FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
         WHERE d.state IN ('pending', 'failed')
      )
      SELECT (SELECT count(*) FROM webhook_subscriptions WHERE enabled)::int AS enabled,
             (SELECT count(*) FROM webhook_subscriptions WHERE NOT enabled)::int AS disabled,
             (SELECT count(*) FROM webhook_subscriptions
               WHERE enabled AND consecutive_failures > 0)::int AS failing,
             d.pending, d."givenUp",
             coalesce(extract(epoch FROM now() - d.oldest), 0)::float8 AS "lagSeconds",
             coalesce((SELECT jsonb_agg(jsonb_build_object(
                         'id', id, 'url', url, 'disabledReason', disabled_reason,
                         'lastError', last_error, 'lastErrorAt', last_error_at)
                       ORDER BY last_error_at DESC NULLS LAST, id)
                         FROM webhook_subscriptions WHERE NOT enabled), '[]') AS "disabledList"
        FROM d`;
    return {
      ...r,
      disabledList: r.disabledList.map((w) => ({
        ...w,
        lastErrorAt: w.lastErrorAt === null ? null : new Date(w.lastErrorAt),
      })),
    };
  }

  async delete(id: string): Promise<boolean> {
    return (await this.prisma.$executeRaw`DELETE FROM webhook_subscriptions WHERE id = ${id}`) > 0;
  }

  /**
   * Puts `secret` first; the current secrets keep signing until `oldUntil` (receivers switch
   * over meanwhile), expired ones are dropped. Returns false when the subscription is unknown.
   */
  async rotate(id: string, secret: string, oldUntil: Date): Promise<boolean> {
    const n = await this.prisma.$executeRaw`
      UPDATE webhook_subscriptions SET secrets = (
        SELECT jsonb_build_array(jsonb_build_object('secret', ${secret}::text, 'expiresAt', null))
               || coalesce(jsonb_agg(jsonb_build_object(
                    'secret', s->>'secret',
                    'expiresAt', coalesce(s->>'expiresAt', ${oldUntil.toISOString()}::text))), '[]')
          FROM jsonb_array_elements(secrets) s
         WHERE s->>'expiresAt' IS NULL OR (s->>'expiresAt')::timestamptz > now())
       WHERE id = ${id}`;
    return n > 0;
  }

  /** Queues one delivery for one subscription (the test message). */
  async queue(subscriptionId: string, msgId: string, type: string, body: string): Promise<boolean> {
    const n = await this.prisma.$executeRaw`
      INSERT INTO webhook_deliveries (subscription_id, msg_id, type, body)
      SELECT id, ${msgId}, ${type}, ${body} FROM webhook_subscriptions WHERE id = ${subscriptionId}`;
    return n > 0;
  }

  /**
   * In the publisher's transaction: one delivery per event and enabled subscription that wants
   * it (only `subscriptionId` when given: a re-enabled one catching up), in the events' order
   * (their ids give the per product-date order of delivery). Returns the deliveries queued.
   */
  async fanOutInTransaction(
    tx: Prisma.TransactionClient,
    events: ChangeEvent[],
    subscriptionId: string | null = null,
  ): Promise<number> {
    if (events.length === 0) return 0;
    const rows = events.map((e, ord) => ({
      ord,
      msg_id: `evt_${e.cursor}`,
      type: e.type,
      product_id: e.productId,
      date: e.date,
      body: JSON.stringify({ type: e.type, timestamp: e.changedAt, data: e.data }),
    }));
    return tx.$executeRaw`
      INSERT INTO webhook_deliveries (subscription_id, msg_id, type, product_id, date, body)
      SELECT s.id, e.msg_id, e.type, e.product_id, e.date::date, e.body
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             AS e(ord int, msg_id text, type text, product_id int, date text, body text)
        JOIN webhook_subscriptions s
          ON s.enabled
         AND (${subscriptionId}::text IS NULL OR s.id = ${subscriptionId}::text)
         AND (s.event_types = '[]'::jsonb OR s.event_types ? e.type)
         AND (s.product_ids = '[]'::jsonb OR s.product_ids @> to_jsonb(e.product_id))
       ORDER BY e.ord, s.id`;
  }

  /**
   * In the re-enabling transaction: locks the subscription's row and returns whether it is
   * enabled, when it was created, and the newest event cursor it was ever queued (null: no
   * event's delivery is kept). Null when the subscription is unknown.
   */
  async lockForEnable(
    tx: Prisma.TransactionClient,
    id: string,
  ): Promise<{ enabled: boolean; createdAt: Date; lastQueued: bigint | null } | null> {
    const [row] = await tx.$queryRaw<
      Array<{ enabled: boolean; createdAt: Date; lastQueued: bigint | null }>
    >`
      SELECT s.enabled, s.created_at AS "createdAt",
             (SELECT max(substring(d.msg_id FROM 5)::bigint) FROM webhook_deliveries d
               WHERE d.subscription_id = s.id AND d.msg_id ~ '^evt_[0-9]+$') AS "lastQueued"
        FROM webhook_subscriptions s WHERE s.id = ${id} FOR UPDATE OF s`;
    return row ?? null;
  }

  /**
   * In the re-enabling transaction: enables the subscription with its failures forgotten, puts
   * the messages given up on back in the queue (their ids keep each product-date's order) and
   * starts every waiting message's WEBHOOK_RETRY_HOURS afresh. Returns the messages put back.
   */
  async enableInTransaction(tx: Prisma.TransactionClient, id: string): Promise<number> {
    await tx.$executeRaw`
      UPDATE webhook_subscriptions
         SET enabled = true, disabled_reason = NULL, consecutive_failures = 0
       WHERE id = ${id}`;
    await tx.$executeRaw`
      UPDATE webhook_deliveries SET created_at = now(), next_attempt_at = now(), locked_until = NULL
       WHERE subscription_id = ${id} AND state = 'pending'`;
    return tx.$executeRaw`
      UPDATE webhook_deliveries
         SET state = 'pending', attempts = 0, created_at = now(), next_attempt_at = now(),
             locked_until = NULL, finished_at = NULL
       WHERE subscription_id = ${id} AND state = 'failed'`;
  }

  /**
   * Claims up to `limit` due deliveries for `leaseMs`: only the oldest pending one of each
   * subscription and product-date (so they arrive in order), of enabled subscriptions, and none
   * another instance holds (SKIP LOCKED, then the lease). Counts the attempt.
   */
  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.prisma.$queryRaw<ClaimedDelivery[]>`
      WITH c AS (
        SELECT d.id FROM webhook_deliveries d
          JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
         WHERE d.state = 'pending' AND d.next_attempt_at <= now()
           AND (d.locked_until IS NULL OR d.locked_until < now())
           AND NOT EXISTS (
             SELECT 1 FROM webhook_deliveries o
              WHERE o.subscription_id = d.subscription_id AND o.state = 'pending'
                AND o.product_id IS NOT DISTINCT FROM d.product_id
                AND o.date IS NOT DISTINCT FROM d.date AND o.id < d.id)
         ORDER BY d.id
         LIMIT ${limit}
         FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE webhook_deliveries d
         SET locked_until = now() + make_interval(secs => ${leaseMs / 1000}::float8),
             attempts = d.attempts + 1
        FROM c, webhook_subscriptions s
       WHERE d.id = c.id AND s.id = d.subscription_id
      RETURNING d.id, d.subscription_id AS "subscriptionId", d.msg_id AS "msgId", d.body,
                d.attempts, d.created_at AS "createdAt", s.url, s.secrets`;
  }

  async markDelivered(d: ClaimedDelivery): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.$executeRaw`
        UPDATE webhook_deliveries SET state = 'delivered', finished_at = now(), locked_until = NULL,
               last_error = NULL
         WHERE id = ${d.id}`,
      this.prisma.$executeRaw`
        UPDATE webhook_subscriptions SET last_success_at = now(), consecutive_failures = 0
         WHERE id = ${d.subscriptionId}`,
    ]);
  }

  /**
   * Records a failed attempt: retried at `retryAt`, or (null) given up on, which disables the
   * subscription with `disableReason` (its later events are not queued until it is enabled again,
   * which queues them then: WebhooksService.enable).
   */
  async markFailed(
    d: ClaimedDelivery,
    error: string,
    retryAt: Date | null,
    disableReason: string | null,
  ): Promise<void> {
    const err = error.slice(0, 2000);
    await this.prisma.$transaction([
      retryAt
        ? this.prisma.$executeRaw`
            UPDATE webhook_deliveries SET next_attempt_at = ${retryAt}, locked_until = NULL,
                   last_error = ${err}
             WHERE id = ${d.id}`
        : this.prisma.$executeRaw`
            UPDATE webhook_deliveries SET state = 'failed', finished_at = now(),
                   locked_until = NULL, last_error = ${err}
             WHERE id = ${d.id}`,
      this.prisma.$executeRaw`
        UPDATE webhook_subscriptions
           SET consecutive_failures = consecutive_failures + 1, last_error = ${err},
               last_error_at = now(),
               enabled = enabled AND ${disableReason}::text IS NULL,
               disabled_reason = coalesce(${disableReason?.slice(0, 2000) ?? null}::text, disabled_reason)
         WHERE id = ${d.subscriptionId}`,
    ]);
  }

  /** Deletes finished deliveries older than `retentionMs`, in batches. */
  async pruneFinished(retentionMs: number, batch: number): Promise<number> {
    let total = 0;
    for (let i = 0; i < 100; i++) {
      const n = await this.prisma.$executeRaw`
        DELETE FROM webhook_deliveries WHERE id IN (
          SELECT id FROM webhook_deliveries
           WHERE finished_at < now() - make_interval(secs => ${retentionMs / 1000}::float8)
           LIMIT ${batch})`;
      total += n;
      if (n < batch) break;
    }
    return total;
  }
}
