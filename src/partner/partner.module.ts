import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CoreModule } from '../core/core.module';
import { PartnerClient } from './partner-client';
import { PartnerEndpoint } from './partner-endpoint';
import { PartnerGateway } from './partner-gateway.service';
import { PartnerSimulatorHost } from './partner-simulator.host';

/** The partner client (and, in the demo, the built-in simulator). */
@Module({
  // CoreModule: every call goes through its RateLimiterService.
  imports: [HttpModule, CoreModule],
  providers: [
    PartnerSimulatorHost,
    {
      provide: PartnerEndpoint,
      inject: [APP_CONFIG, PartnerSimulatorHost],
      // Resolved at init, before anything can call the partner.
      useFactory: async (config: AppConfig, host: PartnerSimulatorHost) =>
        new PartnerEndpoint(
          (await host.startIfSimulated()) ?? config.partner.baseUrl,
          config.partner.timeoutMs,
        ),
    },
    PartnerClient,
    PartnerGateway,
  ],
  exports: [PartnerGateway, PartnerClient, PartnerEndpoint, PartnerSimulatorHost],
})
export class PartnerModule {}
