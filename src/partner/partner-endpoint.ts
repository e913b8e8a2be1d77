/**
 * Where the partner is and which key to send, resolved once at boot: the configured partner, or
 * in the demo the in-process simulator's ephemeral URL (so nothing mutates the config).
 */
export class PartnerEndpoint {
  constructor(
    readonly baseUrl: string,
    /** Kept off enumerable output so a stray log of this object cannot print the key. */
    apiKey: string,
    readonly timeoutMs: number,
  ) {
    Object.defineProperty(this, 'apiKey', { value: apiKey, enumerable: false });
  }
  declare readonly apiKey: string;
}
