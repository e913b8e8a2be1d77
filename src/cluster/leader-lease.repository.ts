import { Injectable } from '@nestjs/common';
import { PrismaService } from '../core/prisma.service';
import type { Prisma } from '../generated/prisma/client';
import type { LimiterState } from '../core/rate-limiter/rate-limiter.types';

/** The one lease that decides who runs the schedules and calls the partner. */
export const SYNC_LEADER_LEASE = 'sync-leader';

/** What the leader publishes in leader_leases.state (merged key by key: heartbeat, recordCalls). */
export interface PublishedLeaderState {
  /**
   * Start times (database clock, epoch ms) of the partner calls made in the last rate window, by
   * key fingerprint (a plain list from a leader before several keys: counted against every key).
   */
  calls?: Record<string, number[]> | number[];
  /** The leader's limiter: queue, budget, breaker. */
  limiter?: LimiterState | null;
  publishedAt?: string;
}

/** The lease row as every instance sees it (GET status shows this, whichever instance answers). */
export interface LeaseView {
  holderId: string;
  fence: string;
  acquiredAt: Date;
  renewedAt: Date;
  expiresAt: Date;
  /** False when the holder let the lease expire (dead or released); nobody leads until taken. */
  valid: boolean;
  state: PublishedLeaderState | null;
}

/** The lease row after one acquire-or-renew statement, with the database clock. */
export interface LeaseAttempt {
  holderId: string;
  fence: bigint;
  acquiredAt: Date;
  expiresAt: Date;
  /** True when this statement took or renewed the lease for the caller. */
  held: boolean;
  dbNow: Date;
  prevHolder: string | null;
  /** Held: the state before this upsert (the predecessor's). Not held: the current state. */
  prevState: PublishedLeaderState | null;
}

interface AttemptRow {
  holder_id: string;
  fence: bigint;
  acquired_at: Date;
  expires_at: Date;
  held: boolean;
  db_now: Date;
  prev_holder: string | null;
  prev_state: PublishedLeaderState | null;
}

/**
 * The one door to leader_leases. Every statement is a single atomic INSERT … ON CONFLICT / UPDATE
 * judged on the database clock, so no pinned session is needed and Prisma's pool is fine.
 */
@Injectable()
export class LeaderLeaseRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Opens a pooled connection, so the first attempt is not timed over a slow connect. */
  async openConnection(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }

  /**
   * Takes the lease when it has expired, or renews it when `holderId` holds it (with `knownFence`,
   * when given, as the term to continue). The fence grows at each change of holder or term.
   * Null when another instance's first insert committed during this statement (see the caller).
   */
  async acquireOrRenew(
    holderId: string,
    leaseMs: number,
    knownFence: bigint | null,
    published: PublishedLeaderState | null,
  ): Promise<LeaseAttempt | null> {
    // `prev` and the fallback branch read the snapshot before the upsert: on takeover we learn
    // what the previous holder published (its partner calls) in the same round trip.
    const rows = await this.prisma.$queryRaw<AttemptRow[]>`
      WITH prev AS (
        SELECT holder_id, state FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}
      ), attempt AS (
        INSERT INTO leader_leases AS l (name, holder_id, fence, acquired_at, renewed_at, expires_at, state)
        VALUES (${SYNC_LEADER_LEASE}, ${holderId}, 1, now(), now(),
                now() + ${leaseMs}::int * interval '1 millisecond', ${published ? JSON.stringify(published) : null}::jsonb)
        ON CONFLICT (name) DO UPDATE SET
          holder_id = EXCLUDED.holder_id,
          fence = CASE WHEN l.holder_id = EXCLUDED.holder_id AND l.fence = ${knownFence}::bigint
                         AND l.expires_at > now() THEN l.fence ELSE l.fence + 1 END,
          acquired_at = CASE WHEN l.holder_id = EXCLUDED.holder_id AND l.fence = ${knownFence}::bigint
                         AND l.expires_at > now() THEN l.acquired_at ELSE now() END,
          renewed_at = now(),
          expires_at = EXCLUDED.expires_at,
          state = COALESCE(l.state, '{}'::jsonb) || COALESCE(EXCLUDED.state, '{}'::jsonb)
        WHERE l.expires_at <= now()
           OR (l.holder_id = EXCLUDED.holder_id AND (${knownFence}::bigint IS NULL OR l.fence = ${knownFence}::bigint))
        RETURNING holder_id, fence, acquired_at, expires_at
      )
      SELECT a.holder_id, a.fence, a.acquired_at, a.expires_at, true AS held, now() AS db_now,
             (SELECT holder_id FROM prev) AS prev_holder, (SELECT state FROM prev) AS prev_state
        FROM attempt a
      UNION ALL
      SELECT p.holder_id, p.fence, p.acquired_at, p.expires_at, false, now(), p.holder_id, p.state
        FROM leader_leases p
       WHERE p.name = ${SYNC_LEADER_LEASE} AND NOT EXISTS (SELECT 1 FROM attempt)`;
    const r = rows[0];
    if (!r) return null;
    return {
      holderId: r.holder_id,
      fence: r.fence,
      acquiredAt: r.acquired_at,
      expiresAt: r.expires_at,
      held: r.held,
      dbNow: r.db_now,
      prevHolder: r.prev_holder,
      prevState: r.prev_state,
    };
  }

  /** The lease row as stored (null before anyone ever led). */
  async find(): Promise<LeaseView | null> {
    const rows = await this.prisma.$queryRaw<
      {
        holder_id: string;
        fence: bigint;
        acquired_at: Date;
        renewed_at: Date;
        expires_at: Date;
        valid: boolean;
        state: PublishedLeaderState | null;
      }[]
    >`SELECT holder_id, fence, acquired_at, renewed_at, expires_at, expires_at > now() AS valid, state
      FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}`;
    const r = rows[0];
    if (!r) return null;
    return {
      holderId: r.holder_id,
      fence: String(r.fence),
      acquiredAt: r.acquired_at,
      renewedAt: r.renewed_at,
      expiresAt: r.expires_at,
      valid: r.valid,
      state: r.state,
    };
  }

  /** Whether `holderId` still holds the unexpired lease in term `fence`, and who holds it. */
  async confirm(
    holderId: string,
    fence: bigint,
  ): Promise<{ held: boolean; holderId: string | null }> {
    const rows = await this.prisma.$queryRaw<{ ok: boolean; holder_id: string }[]>`
      SELECT (holder_id = ${holderId} AND fence = ${fence} AND expires_at > now()) AS ok, holder_id
        FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}`;
    return { held: rows[0]?.ok === true, holderId: rows[0]?.holder_id ?? null };
  }

  /**
   * Inside a caller's transaction (a store): whether `holderId` still holds the lease in term
   * `fence`, and who holds it. The row is locked FOR SHARE until that transaction ends: a takeover
   * (an UPDATE of the row) waits for it, so the answer holds until the caller commits. The expiry
   * is not checked: while the term is unchanged nobody else can have fetched since.
   */
  async holdsInTransaction(
    tx: Prisma.TransactionClient,
    holderId: string,
    fence: bigint,
  ): Promise<{ held: boolean; holderId: string | null }> {
    const rows = await tx.$queryRaw<{ holder_id: string; fence: bigint }[]>`
      SELECT holder_id, fence FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE} FOR SHARE`;
    const r = rows[0];
    return { held: r?.holder_id === holderId && r.fence === fence, holderId: r?.holder_id ?? null };
  }

  /**
   * Fenced write of the call ledgers (by key fingerprint): updated only while `holderId` holds the
   * unexpired lease in term `fence`; otherwise says who holds it.
   */
  async recordCalls(
    holderId: string,
    fence: bigint,
    calls: Record<string, number[]>,
  ): Promise<{ updated: boolean; holderId: string | null }> {
    const rows = await this.prisma.$queryRaw<{ updated: boolean; holder_id: string | null }[]>`
      WITH upd AS (
        UPDATE leader_leases
           SET state = COALESCE(state, '{}'::jsonb) || jsonb_build_object('calls', ${JSON.stringify(calls)}::jsonb)
         WHERE name = ${SYNC_LEADER_LEASE} AND holder_id = ${holderId}
           AND fence = ${fence} AND expires_at > now()
        RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM upd) AS updated,
             (SELECT holder_id FROM leader_leases WHERE name = ${SYNC_LEADER_LEASE}) AS holder_id`;
    return { updated: rows[0]?.updated === true, holderId: rows[0]?.holder_id ?? null };
  }

  /** Expires the lease now if `holderId` still holds it in term `fence`. */
  async release(holderId: string, fence: bigint): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE leader_leases SET expires_at = now() - interval '1 millisecond'
      WHERE name = ${SYNC_LEADER_LEASE} AND holder_id = ${holderId} AND fence = ${fence}`;
  }
}
