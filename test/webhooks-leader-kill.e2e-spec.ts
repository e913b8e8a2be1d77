import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';
import { moreDelivered, useWebhookRun } from './support/webhook-run';

describe('webhooks across a leader killed with SIGKILL', () => {
  const run = useWebhookRun();
  const { receiver } = run;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('inv_wh_kill');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('delivers every change of the run once after dedup, in order per product-date, the killed leader’s messages again after their claim', async () => {
    const first = await run.start(db.url, 'first');
    await moreDelivered(receiver, 5);
    // Messages in flight when the leader dies: held unanswered, then its process killed.
    receiver.hold = true;
    await until('a message in flight', () => receiver.held.length > 0);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    await until('the dead sender’s connections closed', () =>
      receiver.held.every((h) => h.closed()),
    );
    receiver.release();
    expect(receiver.aborted).toBeGreaterThan(0);

    // Its replacement takes the lease over and the run goes on.
    const second = await run.startService('second');
    await moreDelivered(receiver, 5);
    await run.expectEveryChangeOnceInOrder(second);
  });
});
