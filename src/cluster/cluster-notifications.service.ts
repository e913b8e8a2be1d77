import {
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { Client } from 'pg';
import { Subject } from 'rxjs';
import { DatabaseOutageReporter } from '../common/database-unavailable';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { DATABASE_CONNECTION, type DatabaseConnection } from '../core/database/database-connection';
import { PrismaService } from '../core/prisma.service';
import { resolveInstanceId } from './instance-id';

/** The PostgreSQL channel every instance listens on. */
export const CLUSTER_CHANNEL = 'inventory_cluster';

/**
 * Signals between instances (each is small: NOTIFY payloads must stay under 8000 bytes).
 * `deferred`: the invalidation did not reach the shared Redis cache yet.
 */
export type ClusterMessage =
  | { type: 'lease-released' }
  | { type: 'invalidate-product-date'; productId: number; date: string; deferred?: true }
  | { type: 'invalidate-product'; productId: number; deferred?: true };

export type ReceivedClusterMessage = ClusterMessage & { from: string };

/** Parses a NOTIFY payload; anything malformed is ignored (null), never thrown. */
export function parseClusterMessage(payload: string | undefined): ReceivedClusterMessage | null {
  if (!payload) return null;
  let m: unknown;
  try {
    m = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Record<string, unknown>;
  if (typeof o.from !== 'string') return null;
  if (o.type === 'lease-released') return { type: 'lease-released', from: o.from };
  const deferred = o.deferred === true ? { deferred: true as const } : {};
  if (o.type === 'invalidate-product-date' && Number.isInteger(o.productId)) {
    if (typeof o.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(o.date)) return null;
    return {
      type: o.type,
      productId: o.productId as number,
      date: o.date,
      ...deferred,
      from: o.from,
    };
  }
  if (o.type === 'invalidate-product' && Number.isInteger(o.productId)) {
    return { type: o.type, productId: o.productId as number, ...deferred, from: o.from };
  }
  return null;
}

/**
 * Cross-instance signals through PostgreSQL LISTEN/NOTIFY. Sending goes through PrismaService
 * (pg_notify); listening needs a session that stays open, so this owns one dedicated connection —
 * the only connection outside Prisma's pool — and reconnects when it drops. After a reconnect
 * messages may have been missed, which `reconnected$` announces (caches then drop everything).
 * The embedded database serves one instance only, so it is not listened to.
 */
@Injectable()
export class ClusterNotifications implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ClusterNotifications.name);
  readonly instanceId: string;
  /** Messages from other instances (our own are filtered out). */
  readonly messages$ = new Subject<ReceivedClusterMessage>();
  readonly reconnected$ = new Subject<void>();
  private client: Client | null = null;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private everConnected = false;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(DATABASE_CONNECTION) private readonly connection: DatabaseConnection,
    @InjectConfig() config: AppConfig,
    @Optional() private readonly outage?: DatabaseOutageReporter,
  ) {
    this.instanceId = resolveInstanceId(config.cluster.instanceId);
  }

  get listening(): boolean {
    return this.client !== null;
  }

  async onModuleInit(): Promise<void> {
    if (this.connection.kind !== 'postgresql') return;
    await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  /** Sends a message to every other instance; failures are logged, never thrown. */
  async publish(message: ClusterMessage): Promise<void> {
    if (this.connection.kind !== 'postgresql') return;
    const payload = JSON.stringify({ ...message, from: this.instanceId });
    try {
      await this.prisma.$executeRaw`SELECT pg_notify(${CLUSTER_CHANNEL}, ${payload})`;
    } catch (err) {
      this.logger.warn({ msg: 'cluster notify failed', type: message.type, error: errText(err) });
    }
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.connection.url,
      connectionTimeoutMillis: 3000,
      keepAlive: true,
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => {
      const m = parseClusterMessage(n.payload);
      if (m && m.from !== this.instanceId) this.messages$.next(m);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (!this.outage?.report('cluster listener', err)) {
        this.logger.warn({ msg: 'cluster listener could not connect', error: errText(err) });
      }
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    if (this.everConnected) {
      this.logger.log({ msg: 'cluster listener reconnected' });
      this.reconnected$.next();
    }
    this.everConnected = true;
  }

  private lost(client: Client, err?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (!err || !this.outage?.report('cluster listener', err)) {
      this.logger.warn({
        msg: 'cluster listener connection lost',
        error: err ? errText(err) : null,
      });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(5000, 250 * 2 ** Math.min(this.failures - 1, 5));
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
