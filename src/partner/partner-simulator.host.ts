import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { PartnerSimulator } from './simulator/partner-simulator';

/**
 * In the demo without a partner URL, runs the built-in simulator in-process on an ephemeral
 * loopback port, with the configured budget and keys. Stopped after the limiter has drained
 * (onApplicationShutdown runs after every beforeApplicationShutdown).
 */
@Injectable()
export class PartnerSimulatorHost implements OnApplicationShutdown {
  private readonly logger = new Logger(PartnerSimulatorHost.name);
  private simulator: PartnerSimulator | null = null;

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  /** Starts the simulator when the config asks for it; returns its base URL, or null. */
  async startIfSimulated(): Promise<string | null> {
    if (!this.config.partner.simulated) return null;
    this.simulator = new PartnerSimulator({
      rateLimit: this.config.partner.rateLimit,
      windowMs: this.config.partner.rateWindowMs,
      apiKey: this.config.partner.apiKeys,
      // The change model with its defaults; tune it on the running simulator (POST /__sim/changes).
      changes: this.config.partner.simulatorChanges ? {} : undefined,
    });
    const url = await this.simulator.start(0, '127.0.0.1');
    this.logger.log({ msg: 'partner simulator started', url });
    return url;
  }

  get instance(): PartnerSimulator | null {
    return this.simulator;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.simulator?.stop();
    this.simulator = null;
  }
}
