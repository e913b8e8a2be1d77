import { todayIn } from '../src/inventory/calendar';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { until } from './support/until';
import {
  API_KEY,
  changeSeats,
  eventsOfTheRun,
  expectEveryChangeOnceInOrder,
  moreDelivered,
  pauseSync,
  serviceEnv,
  subscribeAndResume,
} from './support/webhook-run';
import { Receiver } from './support/webhook-receiver';

describe('webhooks across a leader killed with SIGKILL', () => {
  let db: TestDatabase;
  let sim: PartnerSimulator;
  const receiver = new Receiver();
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    await receiver.start();
    db = await createTestDatabase('inv_wh_kill');
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
  });

  afterAll(async () => {
    for (const s of services) await s.stop('SIGKILL');
    await sim?.stop();
    await receiver.close();
    await db?.drop();
  });

  it('delivers every change of the run once after dedup, in order per product-date, the killed leader’s messages again after their claim', async () => {
    const partnerUrl = await sim.start(0);
    const changes = changeSeats(sim, todayIn('UTC', new Date()));
    await pauseSync(db.url);
    const first = await startServiceProcess(serviceEnv(db.url, partnerUrl, 'first'), []);
    services.push(first);
    await subscribeAndResume(first.baseUrl, receiver);
    changes.start();
    try {
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
      const second = await startServiceProcess(serviceEnv(db.url, partnerUrl, 'second'), []);
      services.push(second);
      await moreDelivered(receiver, 5);
    } finally {
      changes.stop();
    }
    const events = await eventsOfTheRun(services[1].baseUrl, db.url, Date.now());
    await expectEveryChangeOnceInOrder(receiver, events);
  });
});
