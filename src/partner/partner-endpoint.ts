/**
 * Where the partner is, resolved once at boot: the configured partner, or in the demo the
 * in-process simulator's ephemeral URL (so nothing mutates the config). The key of each call
 * comes from the rate limiter, which picks it.
 */
export class PartnerEndpoint {
  constructor(
    readonly baseUrl: string,
    readonly timeoutMs: number,
  ) {}
}
