import { QUIET_CRONS } from './default-crons';
import { startTestApp, type TestApp } from './test-app';
import { createTestDatabase, type TestDatabase } from './test-database';
import { Receiver } from './webhook-receiver';

/** What a suite reaches through useWebhookApp(), valid inside its tests and hooks. */
export interface WebhookAppSuite {
  readonly t: TestApp;
  /** The first product the service syncs. */
  readonly product: number;
  /** The suite's consumer, listening before the service starts. */
  readonly receiver: Receiver;
}

/**
 * The lifecycle the in-process webhook suites share, as Jest hooks of the calling describe: a
 * receiver, a database of the suite's own and the service on it, no sync at boot nor tick, private receiver
 * URLs allowed (the receiver is on 127.0.0.1), and attempts that time out after 500 ms and are
 * retried from 100 ms on for an hour (so retries and giving up happen within a test).
 */
export function useWebhookApp(dbName: string, adminToken: string): WebhookAppSuite {
  const receiver = new Receiver();
  let db: TestDatabase | undefined;
  let t: TestApp | undefined;
  beforeAll(async () => {
    await receiver.start();
    db = await createTestDatabase(dbName);
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_ON_BOOT: 'false',
      // No tick: a quarter-hour crossed mid-test would sync today's dates and add change events.
      ...QUIET_CRONS,
      ADMIN_TOKEN: adminToken,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_HOURS: '1',
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
    await db?.drop();
  });
  const started = (): TestApp => {
    if (!t) throw new Error(`${dbName}: the service is used outside its tests`);
    return t;
  };
  return {
    get t() {
      return started();
    },
    get product() {
      return started().config.sync.productIds[0];
    },
    receiver,
  };
}
