import request from 'supertest';
import { QUIET_CRONS } from './support/default-crons';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The service's database dropped (or renamed, or its credentials changed) under a running
 * instance: no query can be answered until an operator acts. Clients get the outage's 503 with
 * Retry-After, as when the server is down, never a 500.
 */
describe('a database dropped under the service', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('inv_dropped');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SYNC_PRODUCT_IDS: '14',
      SYNC_ON_BOOT: 'false',
      CACHE_TTL_MS: '0',
      ...QUIET_CRONS,
    });
    await request(t.baseUrl).get('/api/v1/experience/sync/status').expect(200);
    await db.drop();
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it.each([
    '/api/v1/experience/14/slots?date=2030-01-01',
    '/api/v1/experience/14/dates',
    '/api/v1/experience/sync/freshness',
  ])('answers %s with 503 and Retry-After', async (path) => {
    const res = await request(t.baseUrl).get(path);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body.message).toBe('database unavailable');
  });
});
