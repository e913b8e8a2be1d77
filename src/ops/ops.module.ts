import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HttpObserver } from './http-observer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { OptionalServices } from './optional-services';
import { ReadinessService } from './readiness.service';
import { ShutdownCoordinator } from './shutdown-coordinator';
import { StateGauges } from './state-gauges';

@Global()
@Module({
  // Terminus' own failure log is replaced by ReadinessService's one line per state change.
  imports: [DiscoveryModule, TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [
    MetricsService,
    OptionalServices,
    ReadinessService,
    StateGauges,
    HttpObserver,
    ShutdownCoordinator,
  ],
  exports: [MetricsService, ShutdownCoordinator],
})
export class OpsModule {}
