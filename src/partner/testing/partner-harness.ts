import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { loadConfig, type AppConfig } from '../../config/app-config';
import { RateLimiterService, type RateLimiterOptions } from '../../core/rate-limiter.service';
import { MetricsService } from '../../ops/metrics.service';
import { PartnerClient } from '../partner-client';
import { PartnerEndpoint } from '../partner-endpoint';
import { PartnerGateway } from '../partner-gateway.service';
import { PartnerSimulator, type PartnerSimulatorOptions } from '../simulator/partner-simulator';

/** A simulator plus the real client, limiter and gateway wired to it without Nest (tests, benchmarks). */
export interface PartnerHarness {
  simulator: PartnerSimulator;
  url: string;
  config: AppConfig;
  metrics: MetricsService;
  client: PartnerClient;
  limiter: RateLimiterService;
  gateway: PartnerGateway;
  close(): Promise<void>;
}

export async function startPartnerHarness(
  options: {
    sim?: Partial<PartnerSimulatorOptions>;
    limiter?: Partial<RateLimiterOptions>;
    env?: Record<string, string>;
  } = {},
): Promise<PartnerHarness> {
  const apiKey = options.sim?.apiKey ?? 'harness-secret-key-0123456789';
  const simulator = new PartnerSimulator({ rateLimit: 5, windowMs: 1000, apiKey, ...options.sim });
  const url = await simulator.start(0);
  const config = loadConfig(
    {
      PARTNER_API_URL: url,
      PARTNER_API_KEY: apiKey,
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
    new PartnerEndpoint(url, config.partner.apiKey, config.partner.timeoutMs),
  );
  const limiter = new RateLimiterService(config, {
    retryBaseMs: 50,
    retryMaxMs: 200,
    breakerHalfOpenAfterMs: 500,
    unauthorizedHoldMs: 300,
    ...options.limiter,
  });
  limiter.observe((outcome, seconds) => metrics.recordPartnerCall(outcome, seconds));
  const gateway = new PartnerGateway(limiter, client);
  return {
    simulator,
    url,
    config,
    metrics,
    client,
    limiter,
    gateway,
    close: async () => {
      await limiter.drain(2000);
      await simulator.stop();
    },
  };
}
