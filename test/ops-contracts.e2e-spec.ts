import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApp, type TestApp } from './support/test-app';

// The published contracts, checked by tools nobody here wrote: Prometheus' own promtool (Debian's
// `prometheus` package, installed by npm test on Debian as root) and Redocly's OpenAPI linter (a dev dependency).
const PROMTOOL = process.env.PROMTOOL_PATH ?? 'promtool';
const ROOT = path.resolve(__dirname, '..');
const REDOCLY = path.join(ROOT, 'node_modules', '.bin', 'redocly');
const REDOCLY_CONFIG = path.join(ROOT, 'redocly.yaml');

function run(cmd: string, args: string[], input?: string): { code: number | null; out: string } {
  const env = {
    ...process.env,
    // Redocly would report usage to its servers and check for updates: neither, in a test.
    REDOCLY_TELEMETRY: 'off',
    REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  };
  const r = spawnSync(cmd, args, { cwd: ROOT, input, env, encoding: 'utf8', timeout: 120_000 });
  if (r.error)
    throw new Error(`${cmd} could not run (${r.error.message}); see README, Development`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('published contracts against third-party validators', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('inv_contracts');
    t = await startTestApp({ DATABASE_URL: db.url, SYNC_ON_BOOT: 'false' });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('GET /metrics passes promtool check metrics', async () => {
    const res = await request(t.baseUrl).get('/metrics');
    expect(res.status).toBe(200);
    const { code, out } = run(PROMTOOL, ['check', 'metrics'], res.text);
    expect({ code, out }).toEqual({ code: 0, out: '' });
  });

  it('GET /docs-json passes redocly lint with the recommended rules', async () => {
    const res = await request(t.baseUrl).get('/docs-json');
    expect(res.status).toBe(200);
    // A fixed path: .redocly.lint-ignore.yaml names the problems ignored on purpose in this file.
    mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    const file = path.join(ROOT, 'test-artifacts', 'openapi.json');
    writeFileSync(file, JSON.stringify(res.body, null, 2));
    const { code, out } = run(REDOCLY, ['lint', '--config', REDOCLY_CONFIG, file]);
    expect(out).not.toMatch(/\d+ (errors?|warnings?)\b/);
    expect(out).toMatch(/Woohoo! Your API description is valid/);
    expect(code).toBe(0);
  });

  it('leaves the operator page out of the OpenAPI document', async () => {
    const paths = Object.keys((await request(t.baseUrl).get('/docs-json')).body.paths);
    expect(paths).not.toContain('/');
    expect(paths.filter((p) => p.startsWith('/ui/'))).toEqual([]);
    expect(paths).toContain('/api/v1/experience/sync/status');
  });
});
