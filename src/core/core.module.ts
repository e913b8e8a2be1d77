import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DatabaseOutageReporter } from '../common/database-unavailable';
import { DATABASE_CONNECTION, openDatabase } from './database/database-connection';
import { DatabaseOutage } from './database/database-outage';
import { PrismaService } from './prisma.service';
import { RateLimiterService } from './rate-limiter/rate-limiter.service';

/** Shared infrastructure: the database (PrismaService, its availability) and the partner budget. */
@Module({
  providers: [
    {
      provide: DATABASE_CONNECTION,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => openDatabase(config),
    },
    DatabaseOutage,
    { provide: DatabaseOutageReporter, useExisting: DatabaseOutage },
    PrismaService,
    RateLimiterService,
  ],
  // DATABASE_CONNECTION: the cluster's LISTEN connection needs the resolved URL.
  exports: [
    PrismaService,
    RateLimiterService,
    DatabaseOutage,
    DatabaseOutageReporter,
    DATABASE_CONNECTION,
  ],
})
export class CoreModule {}
