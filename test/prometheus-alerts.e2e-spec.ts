import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';

// The shipped alerting rules, checked by Prometheus' own promtool (Debian's `prometheus` package;
// `npm test` installs it or says how) and against the names the service really exports.
const PROMTOOL = process.env.PROMTOOL_PATH ?? 'promtool';
const DIR = path.resolve(__dirname, '..', 'deploy', 'prometheus');

function promtool(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${PROMTOOL} could not run (${r.error.message}); see README`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('deploy/prometheus alerting rules', () => {
  it('pass promtool check rules', () => {
    const { code, out } = promtool('check', 'rules', 'alerts.yml');
    expect({ code, out }).toEqual({ code: 0, out: expect.stringContaining('SUCCESS: 7 rules') });
  });

  it('pass their unit tests (promtool test rules alerts.test.yml)', () => {
    const { code, out } = promtool('test', 'rules', 'alerts.test.yml');
    expect({ code, out }).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
  });

  describe('against the running service', () => {
    let db: TestDatabase;
    let t: TestApp;

    beforeAll(async () => {
      db = await createTestDatabase('inv_alerts');
      t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false' });
    });

    afterAll(async () => {
      await t?.close();
      await db?.drop();
    });

    it('use only metric names that GET /metrics exports', async () => {
      const res = await request(t.baseUrl).get('/metrics');
      expect(res.status).toBe(200);
      const exported = new Set([...res.text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
      const rules = readFileSync(path.join(DIR, 'alerts.yml'), 'utf8');
      const used = [...new Set([...rules.matchAll(/\binventory_sync_[a-z_]+/g)].map((m) => m[0]))];
      expect(used.length).toBeGreaterThanOrEqual(8);
      expect(used.filter((name) => !exported.has(name))).toEqual([]);
    });
  });
});
