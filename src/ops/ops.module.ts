import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { InventoryModule } from '../inventory/inventory.module';
import { HealthController } from './health.controller';
import { HttpObserver } from './http-observer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { ReadinessService } from './readiness.service';
import { ShutdownCoordinator } from './shutdown-coordinator';
import { StateGauges } from './state-gauges';

@Global()
@Module({
  // Terminus' own failure log is replaced by ReadinessService's one line per state change.
  // InventoryModule: the scheduler and the pause switch (it reaches OpsModule as a global module,
  // not by import, and no inventory provider depends on an ops provider other than MetricsService).
  imports: [TerminusModule.forRoot({ logger: false }), InventoryModule],
  controllers: [HealthController, MetricsController],
  providers: [MetricsService, ReadinessService, StateGauges, HttpObserver, ShutdownCoordinator],
  exports: [MetricsService, ShutdownCoordinator],
})
export class OpsModule {}
