import Bottleneck from 'bottleneck';
import { PartnerRateLimitedError } from '../src/partner/partner-errors';

/**
 * The seed's limiter, reconstructed from its README and the brief: Bottleneck with
 * maxConcurrent 5 and minTime 2000 ms at 30 calls/minute (scaled here to the window), and a
 * "retry on 429" through Bottleneck's failed → retry path, which skips the limiter's spacing
 * and the queue. It retries a 429'd job after the hinted reset (or one minTime), up to 3 times.
 */
export class SeedLimiter {
  readonly bottleneck: Bottleneck;

  constructor(limit: number, windowMs: number) {
    const minTime = Math.round((2000 * windowMs) / 60_000 / (limit / 30));
    this.bottleneck = new Bottleneck({ maxConcurrent: 5, minTime });
    this.bottleneck.on('failed', (err: unknown, info: { retryCount: number }) => {
      if (err instanceof PartnerRateLimitedError && info.retryCount < 3) {
        const until = err.waitUntil();
        return Math.max(0, until !== null ? until - Date.now() : minTime);
      }
      return undefined;
    });
  }

  schedule<T>(run: () => Promise<T>): Promise<T> {
    return this.bottleneck.schedule(run);
  }

  async stop(): Promise<void> {
    await this.bottleneck.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}
