import {
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type QueryResultRow } from 'pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client';
import { DATABASE_CONNECTION, type DatabaseConnection } from './database/database-connection';
import { DatabaseOutage } from './database/database-outage';

/** A prepared read failed (connection lost, pool exhausted, server error); `cause` says which. */
export class DatabaseQueryError extends Error {
  constructor(
    readonly statement: string,
    options: { cause: unknown },
  ) {
    super(
      `database query ${statement} failed: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`,
      options,
    );
  }
}

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
      connectionTimeoutMillis: connection.acquireTimeoutMs ?? 5000,
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

  /** Connections the pool opens at most. */
  get poolSize(): number {
    return this.connection.poolSize;
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
    await this.pool.end().catch(() => undefined);
    await this.connection.embedded?.stop();
  }

  /**
   * Runs a read-only query as a named prepared statement on the pool the client uses, for the
   * read API's hot queries: the statement is parsed and planned once per connection, and the
   * rows skip the client's per-query work (together several times cheaper than $queryRaw).
   * `name` must always go with the same SQL text; values stay parameters.
   */
  async queryPrepared<T extends QueryResultRow>(name: string, sql: Prisma.Sql): Promise<T[]> {
    try {
      const result = await this.pool.query<T>({ name, text: sql.text, values: sql.values });
      return result.rows;
    } catch (err) {
      throw new DatabaseQueryError(name, { cause: err });
    }
  }

  /**
   * Runs one read without parallel workers (SET LOCAL in a transaction of its own): for the
   * operator page's aggregates over every product-date, so that one of them takes one core and
   * leaves the others to the read path, instead of a leader and its workers taking them all.
   */
  async withoutParallelWorkers<T>(query: Prisma.PrismaPromise<T>): Promise<T> {
    const [, result] = await this.$transaction([
      this.$executeRaw`SET LOCAL max_parallel_workers_per_gather = 0`,
      query,
    ]);
    return result;
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
