/** Which work goes first among the few jobs a key's queue holds: today > next 7 days > the rest. */
export type JobPriority = 'today' | 'week' | 'later';

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * One partner API key as the limiter hands it to a job. `label` ("key #1") and `fingerprint`
 * (first 8 hex digits of its sha256) are safe to show anywhere; `secret` is the key itself,
 * non-enumerable so that a stray log or JSON of this object cannot print it.
 */
export interface PartnerKey {
  readonly label: string;
  readonly fingerprint: string;
  readonly secret: string;
}

/** The safe part of a PartnerKey (start guards, observers). */
export type PartnerKeyName = Pick<PartnerKey, 'label' | 'fingerprint'>;

/**
 * Where a key stands. active: in rotation; probing: in rotation one call at a time (at boot,
 * after a hold, a rejection or an open breaker) until a call succeeds; held: after a 429 until
 * the partner's reset; rejected: after a 401/403 until its probe; breaker_open: after repeated
 * transient failures until the breaker's probe.
 */
export type KeyState = 'active' | 'probing' | 'held' | 'rejected' | 'breaker_open';

/** Why and until when a key is held (GET /api/v1/experience/sync/status). */
export interface LimiterHold {
  /** rate_limited: a 429 (its hints, capped). */
  reason: 'rate_limited';
  /** ISO time the hold began (or was last extended). */
  since: string;
  /** ISO time the key takes calls again. */
  until: string;
  /** ISO time the partner's hints asked for (plus the margin); null without a hint. */
  hintedUntil: string | null;
  /** True when the hint was more than 2 windows ahead and the hold was cut to 2 windows. */
  capped: boolean;
}

/** One key's budget and health. */
export interface LimiterKeyState {
  name: string;
  fingerprint: string;
  state: KeyState;
  limit: number;
  windowMs: number;
  /** Calls this key sent within the last windowMs. */
  spentInWindow: number;
  running: number;
  heldUntil: string | null;
  hold: LimiterHold | null;
  breaker: BreakerState;
  /** ISO time of the breaker's next probe while it is open, else null. */
  breakerRetryAt: string | null;
  /** The partner's answer that took the key out of rotation, until a call with it succeeds. */
  rejectedStatus: 401 | 403 | null;
}

/** A snapshot of the limiter for status, metrics and the operator's page. */
export interface LimiterState {
  /** Sum of the keys' limits per window. */
  limit: number;
  windowMs: number;
  /** Sum of the keys' calls in the last windowMs. */
  spentInWindow: number;
  running: number;
  /** Jobs handed to the limiter that wait for a turn. */
  queued: number;
  /** ISO time the first key takes calls again, only while every key is held; else null. */
  pausedUntil: string | null;
  /** The worst breaker among the keys. */
  breaker: BreakerState;
  keys: LimiterKeyState[];
}

/** What the limiter tells whoever watches it (metrics, the dispatcher). Core-owned, so core imports nothing above it. */
export interface LimiterObserver {
  /** One partner call ended (durationSeconds is absent when nothing was sent, e.g. breaker open). */
  partnerCall?(key: PartnerKeyName, outcome: string, durationSeconds?: number): void;
  /** A key entered or left the rotation, or its capacity changed: capacity() may differ. */
  keysChanged?(): void;
}

/** Awaited before every call with the key it will use; a guard that throws refuses the call. */
export type StartGuard = (key: PartnerKeyName) => void | Promise<void>;
