import {
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { DATABASE_CONNECTION, type DatabaseConnection } from './database/database-connection';
import { DatabaseOutage } from './database/database-outage';

/** The only door to the database: the generated Prisma client on the pg driver adapter. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PrismaService.name);
  private readonly pool: Pool;

  constructor(
    @Inject(DATABASE_CONNECTION) private readonly connection: DatabaseConnection,
    // Optional: tests and benchmarks build a bare PrismaService.
    @Optional() outage?: DatabaseOutage,
  ) {
    const pool = new Pool({
      connectionString: connection.url,
      max: connection.poolSize,
      connectionTimeoutMillis: 5000,
    });
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    // An idle connection dropped by the server must not crash the process; the pool reconnects.
    // During an outage every idle connection fails at once: one outage line, not one per connection.
    pool.on('error', (err) => {
      if (!outage?.report('connection pool', err)) {
        this.logger.warn({ msg: 'database connection lost', error: err.message });
      }
    });
    outage?.useProbe(() => this.ping(1000));
  }

  get kind(): DatabaseConnection['kind'] {
    return this.connection.kind;
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
    await this.pool.end().catch(() => undefined);
    await this.connection.embedded?.stop();
  }

  /** True when the database answers a trivial query within the timeout. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.$queryRaw`SELECT 1`.then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
