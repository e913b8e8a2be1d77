import {
  createMigratedDatabase,
  createPrivatePostgres,
  type PrivatePostgres,
} from './support/private-postgres';
import { until } from './support/until';
import { moreDelivered, useWebhookRun } from './support/webhook-run';

describe('webhooks across a database restart (a PostgreSQL of the test’s own)', () => {
  const run = useWebhookRun();
  const { receiver } = run;
  let pg: PrivatePostgres;
  let dbUrl: string;

  beforeAll(async () => {
    pg = await createPrivatePostgres();
    pg.start();
    dbUrl = await createMigratedDatabase(pg, 'inventory');
  });

  afterAll(() => {
    pg?.destroy();
  });

  it('delivers every change of the run once after dedup, in order per product-date, a message answered while the database was down again', async () => {
    const service = await run.start(dbUrl, 'only');
    await moreDelivered(receiver, 5);
    // A message in flight when the database stops: answered 204 while the service cannot
    // record it, so it is sent again after its claim (at least once; the receiver dedups).
    receiver.hold = true;
    await until('a message in flight', () => receiver.held.length > 0);
    pg.stop();
    const answered = receiver.held.length;
    receiver.release();
    await until('the service to see the outage', async () => {
      const r = await fetch(`${service.baseUrl}/health/ready`);
      return r.status === 503;
    });
    pg.start();
    await moreDelivered(receiver, answered + 5);
    await run.expectEveryChangeOnceInOrder(service);
    // Answered while the service could not record it: sent again once its claim lapsed.
    expect(receiver.duplicates).toBeGreaterThan(0);
  });
});
