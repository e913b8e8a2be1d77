import { Client } from 'pg';
import { migrate } from '../src/core/database/migrator';
import { todayIn } from '../src/inventory/calendar';
import { PartnerSimulator } from '../src/partner/simulator/partner-simulator';
import { createPrivatePostgres, type PrivatePostgres } from './support/private-postgres';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
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

describe('webhooks across a database restart (a PostgreSQL of the test’s own)', () => {
  let pg: PrivatePostgres;
  let dbUrl: string;
  let sim: PartnerSimulator;
  let service: ServiceProcess | undefined;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    pg = await createPrivatePostgres();
    pg.start();
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE inventory');
    await admin.end();
    dbUrl = pg.url.replace(/\/postgres$/, '/inventory');
    await migrate(dbUrl);
    sim = new PartnerSimulator({ rateLimit: 100, windowMs: 1000, apiKey: API_KEY });
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await sim?.stop();
    await receiver.close();
    pg?.destroy();
  });

  it('delivers every change of the run once after dedup, in order per product-date, a message answered while the database was down again', async () => {
    const partnerUrl = await sim.start(0);
    const changes = changeSeats(sim, todayIn('UTC', new Date()));
    await pauseSync(dbUrl);
    service = await startServiceProcess(serviceEnv(dbUrl, partnerUrl, 'only'), []);
    await subscribeAndResume(service.baseUrl, receiver);
    changes.start();
    try {
      await moreDelivered(receiver, 5);
      // A message in flight when the database stops: answered 204 while the service cannot
      // record it, so it is sent again after its claim (at least once; the receiver dedups).
      receiver.hold = true;
      await until('a message in flight', () => receiver.held.length > 0);
      pg.stop();
      const answered = receiver.held.length;
      receiver.release();
      const svc = service;
      await until('the service to see the outage', async () => {
        const r = await fetch(`${svc.baseUrl}/health/ready`);
        return r.status === 503;
      });
      pg.start();
      await moreDelivered(receiver, answered + 5);
    } finally {
      changes.stop();
    }
    const events = await eventsOfTheRun(service.baseUrl, dbUrl, Date.now());
    await expectEveryChangeOnceInOrder(receiver, events);
    // Answered while the service could not record it: sent again once its claim lapsed.
    expect(receiver.duplicates).toBeGreaterThan(0);
  });
});
