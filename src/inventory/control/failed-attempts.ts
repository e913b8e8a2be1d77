export interface FailedAttemptsOptions {
  /** Failures a client may have within `windowMs`; the next attempt is refused. */
  limit: number;
  windowMs: number;
  /** Clients tracked at once; past it the least recently seen one is forgotten. */
  maxClients: number;
  now?: () => number;
}

/**
 * Failed attempts per client over a sliding window, in memory (per instance). A client with
 * `limit` failures in the last `windowMs` is blocked until the oldest of them leaves the window,
 * whatever it sends then. Each client keeps at most `limit` timestamps and at most `maxClients`
 * clients are kept (a Map in least-recently-seen order), so memory is bounded whatever the
 * number of addresses that fail.
 */
export class FailedAttempts {
  private readonly clients = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly options: FailedAttemptsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until `client` may try again (0: not blocked). */
  blockedFor(client: string): number {
    const failures = this.recent(client);
    if (!failures || failures.length < this.options.limit) return 0;
    this.touch(client, failures);
    return failures[0] + this.options.windowMs - this.now();
  }

  /** Counts one failure; returns the milliseconds the client is now blocked for (0: not). */
  recordFailure(client: string): number {
    const failures = this.recent(client) ?? [];
    failures.push(this.now());
    if (failures.length > this.options.limit) failures.shift();
    this.touch(client, failures);
    return this.blockedFor(client);
  }

  /** Clients tracked now (for tests of the memory bound). */
  get size(): number {
    return this.clients.size;
  }

  /** The client's failures still inside the window (forgetting it when there are none). */
  private recent(client: string): number[] | undefined {
    const failures = this.clients.get(client);
    if (!failures) return undefined;
    const since = this.now() - this.options.windowMs;
    while (failures.length > 0 && failures[0] <= since) failures.shift();
    if (failures.length === 0) this.clients.delete(client);
    return failures.length > 0 ? failures : undefined;
  }

  private touch(client: string, failures: number[]): void {
    this.clients.delete(client);
    this.clients.set(client, failures);
    if (this.clients.size > this.options.maxClients) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
  }
}
