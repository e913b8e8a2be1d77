import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { NotAttemptedError } from '../../src/common/domain-error';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import { LimiterShutdownError } from '../../src/core/rate-limiter/rate-limiter.errors';
import {
  RateLimiterService,
  type RateLimiterOptions,
} from '../../src/core/rate-limiter/rate-limiter.service';
import { MetricsService } from '../../src/ops/metrics.service';
import { PartnerClient } from '../../src/partner/partner-client';
import { PartnerEndpoint } from '../../src/partner/partner-endpoint';
import { PartnerGateway } from '../../src/partner/partner-gateway.service';
import type { PartnerInventory } from '../../src/partner/partner.types';
import {
  PartnerSimulator,
  type PartnerSimulatorOptions,
} from '../../src/partner/simulator/partner-simulator';
import { until } from './until';

/** A simulator plus the real client, limiter and gateway wired to it without Nest (tests, benchmarks). */
export interface PartnerHarness {
  simulator: PartnerSimulator;
  url: string;
  /** The keys the simulator accepts and the limiter uses, in order. */
  keys: string[];
  config: AppConfig;
  metrics: MetricsService;
  client: PartnerClient;
  limiter: RateLimiterService;
  gateway: PartnerGateway;
  /**
   * Fetches one product-date as the dispatcher does: a job the limiter hands back (429, rejected
   * key, open breaker) stays due and takes a later turn, once a key can take it.
   */
  fetchUntilDone(productId: number, date: string): Promise<PartnerInventory>;
  close(): Promise<void>;
}

export async function startPartnerHarness(
  options: {
    sim?: Partial<PartnerSimulatorOptions>;
    limiter?: Partial<RateLimiterOptions>;
    env?: Record<string, string>;
  } = {},
): Promise<PartnerHarness> {
  const given = options.sim?.apiKey ?? 'harness-secret-key-0123456789';
  const keys = typeof given === 'string' ? [given] : [...given];
  const simulator = new PartnerSimulator({
    rateLimit: 5,
    windowMs: 1000,
    ...options.sim,
    apiKey: keys,
  });
  const url = await simulator.start(0);
  const config = loadConfig(
    {
      PARTNER_API_URL: url,
      PARTNER_API_KEYS: keys.join(','),
      PARTNER_RATE_LIMIT: String(options.sim?.rateLimit ?? 5),
      PARTNER_RATE_WINDOW_MS: String(options.sim?.windowMs ?? 1000),
      PARTNER_TIMEOUT_MS: '2000',
      ...options.env,
    },
    'production',
  );
  const metrics = new MetricsService();
  const client = new PartnerClient(
    new HttpService(axios.create()),
    new PartnerEndpoint(url, config.partner.timeoutMs),
  );
  const limiter = new RateLimiterService(config, {
    breakerHalfOpenAfterMs: 500,
    rejectedProbeAfterMs: 300,
    ...options.limiter,
  });
  limiter.observe(metrics);
  const gateway = new PartnerGateway(limiter, client);
  const fetchUntilDone = async (productId: number, date: string): Promise<PartnerInventory> => {
    for (;;) {
      try {
        return await gateway.fetchInventory(productId, date, 'later');
      } catch (err) {
        if (!(err instanceof NotAttemptedError) || err instanceof LimiterShutdownError) throw err;
        await until('a key back in rotation', () => limiter.capacity() > 0, 60_000, 10);
      }
    }
  };
  return {
    simulator,
    url,
    keys,
    config,
    metrics,
    client,
    limiter,
    gateway,
    fetchUntilDone,
    close: async () => {
      await limiter.drain(2000);
      await simulator.stop();
    },
  };
}
