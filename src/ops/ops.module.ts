import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterModule } from '../cluster/cluster.module';
import { CoreModule } from '../core/core.module';
import { ChangeFeedMetrics } from './change-feed-metrics';
import { HealthController } from './health.controller';
import { HttpObserver } from './http-observer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { ReadinessService } from './readiness.service';
import { ShutdownCoordinator } from './shutdown-coordinator';
import { StateGauges } from './state-gauges';
import { SyncRunMetrics } from './sync-run-metrics';

/**
 * Health, metrics and the shutdown order. It reads the inventory's state, so it takes the very
 * module the app built (InventoryModule.forRoot returns it; Nest keys modules by reference), and
 * the change feed's the same way.
 */
@Module({})
export class OpsModule {
  static forRoot(inventory: DynamicModule, changes: DynamicModule): DynamicModule {
    return {
      module: OpsModule,
      // Terminus' own failure log is replaced by ReadinessService's one line per state change.
      // ClusterModule: the read cache's state (health, metrics).
      imports: [
        TerminusModule.forRoot({ logger: false }),
        CoreModule,
        ClusterModule,
        inventory,
        changes,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        MetricsService,
        SyncRunMetrics,
        ReadinessService,
        StateGauges,
        ChangeFeedMetrics,
        HttpObserver,
        ShutdownCoordinator,
      ],
      exports: [MetricsService, ShutdownCoordinator],
    };
  }
}
