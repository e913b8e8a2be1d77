import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EnvSchema } from './env.schema';
import { ConfigError, loadConfig } from './app-config';

const KEY = { PARTNER_API_KEY: 'k-123456' };

function problemsOf(
  env: Record<string, string>,
  mode: 'demo' | 'production' = 'production',
): string[] {
  try {
    loadConfig(env, mode);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(KEY);
    expect(c.http.port).toBe(3000);
    expect(c.database.url).toBeUndefined();
    expect(c.database.dataDir).toBe('./data');
    expect(c.partner.baseUrl).toBe('https://leap-api.tickete.co');
    expect(c.partner.rateLimit).toBe(30);
    expect(c.partner.rateWindowMs).toBe(60000);
    expect(c.partner.timeoutMs).toBe(15000);
    expect(c.sync.productIds).toEqual([14, 15]);
    expect(c.sync.timeZone).toBe('UTC');
    expect(c.sync.cron).toEqual({
      daily: '0 0 * * *',
      fourHourly: '0 */4 * * *',
      quarterHourly: '*/15 * * * *',
      extended: '0 1 * * 0',
    });
    expect(c.log.level).toBe('info');
    expect(c.adminToken).toBeUndefined();
    expect(c.adminFailures).toEqual({ limit: 10, windowMs: 60_000 });
    expect(c.changeFeed).toEqual({ retentionMs: 7 * 86_400_000 });
    expect(c.learning).toEqual({
      changeHalfLifeMs: 7 * 86_400_000,
      readHalfLifeMs: 6 * 3_600_000,
      readFlushMs: 10_000,
      poolsRefreshMs: 300_000,
    });
    expect(c.webhooks).toEqual({
      allowPrivateUrls: false,
      timeoutMs: 10_000,
      concurrency: 8,
      retryMs: 24 * 3_600_000,
      retryBaseMs: 5000,
    });
    expect(c.redisUrl).toBeUndefined();
  });

  it('keeps read answers 10 minutes by default (they are dropped on change, so a long TTL is safe)', () => {
    expect(loadConfig(KEY).cache).toEqual({
      ttlMs: 600_000,
      maxEntries: 10_000,
      staleIfErrorMs: 86_400_000,
      // Redis calls on the read path: a short deadline, and a breaker after three failures.
      redis: { commandTimeoutMs: 100, breakerFailures: 3, breakerRetryMs: 1000 },
    });
  });

  it('parses the values it is given', () => {
    const c = loadConfig({
      ...KEY,
      PORT: '8080',
      SYNC_PRODUCT_IDS: ' 14, 15 ,99,14',
      SYNC_TIMEZONE: 'Asia/Kolkata',
      DATABASE_URL: 'postgresql://u:p@db:5432/inv',
      PARTNER_RATE_LIMIT: '60',
    });
    expect(c.http.port).toBe(8080);
    expect(c.sync.productIds).toEqual([14, 15, 99]);
    expect(c.sync.timeZone).toBe('Asia/Kolkata');
    expect(c.database.url).toBe('postgresql://u:p@db:5432/inv');
    expect(c.partner.rateLimit).toBe(60);
  });

  it.each([
    ['PORT', 'abc', 'PORT must be an integer between 0 and 65535, got "abc"'],
    ['PORT', '70000', 'PORT must be an integer between 0 and 65535, got "70000"'],
    ['PORT', '3.5', 'PORT must be an integer'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL must be a postgresql:// URL'],
    ['PARTNER_API_URL', 'ftp://x', 'PARTNER_API_URL must be an http(s) URL'],
    ['PARTNER_RATE_LIMIT', '0', 'PARTNER_RATE_LIMIT must be an integer between 1'],
    ['PARTNER_RATE_WINDOW_MS', 'soon', 'PARTNER_RATE_WINDOW_MS must be an integer'],
    ['SYNC_PRODUCT_IDS', '14,abc', 'SYNC_PRODUCT_IDS must be a comma-separated list'],
    ['SYNC_PRODUCT_IDS', '0', 'SYNC_PRODUCT_IDS must be a comma-separated list'],
    ['SYNC_TIMEZONE', 'Mars/Olympus', 'SYNC_TIMEZONE must be a valid IANA time zone'],
    ['SYNC_CRON_DAILY', 'every day', 'SYNC_CRON_DAILY must be a cron expression'],
    [
      'SYNC_CRON_QUARTER_HOURLY',
      '*/15 * * *',
      'SYNC_CRON_QUARTER_HOURLY must be a cron expression',
    ],
    ['ADMIN_TOKEN', 'short', 'ADMIN_TOKEN must be at least 16 characters'],
    ['ADMIN_FAILURE_LIMIT', '0', 'ADMIN_FAILURE_LIMIT must be an integer between 1 and 100'],
    [
      'ADMIN_FAILURE_WINDOW_MS',
      'a minute',
      'ADMIN_FAILURE_WINDOW_MS must be an integer between 1000',
    ],
    [
      'CHANGE_FEED_RETENTION_DAYS',
      '0',
      'CHANGE_FEED_RETENTION_DAYS must be an integer between 1 and 365',
    ],
    [
      'CHANGE_RATE_HALF_LIFE_MS',
      '60000',
      'CHANGE_RATE_HALF_LIFE_MS must be an integer between 3600000 and 7776000000, got "60000"',
    ],
    [
      'READ_DEMAND_HALF_LIFE_MS',
      '0',
      'READ_DEMAND_HALF_LIFE_MS must be an integer between 60000 and 2592000000',
    ],
    ['READ_DEMAND_FLUSH_MS', 'often', 'READ_DEMAND_FLUSH_MS must be an integer between 100'],
    ['READ_DEMAND_FLUSH_MS', '3600000', 'READ_DEMAND_FLUSH_MS must be an integer between 100'],
    ['WEBHOOK_ALLOW_PRIVATE_URLS', 'yes', 'WEBHOOK_ALLOW_PRIVATE_URLS must be "true" or "false"'],
    ['WEBHOOK_TIMEOUT_MS', '5', 'WEBHOOK_TIMEOUT_MS must be an integer between 100'],
    ['WEBHOOK_CONCURRENCY', '0', 'WEBHOOK_CONCURRENCY must be an integer between 1 and 64'],
    ['WEBHOOK_RETRY_HOURS', '0', 'WEBHOOK_RETRY_HOURS must be an integer between 1 and 168'],
    ['WEBHOOK_RETRY_BASE_MS', '1', 'WEBHOOK_RETRY_BASE_MS must be an integer between 100'],
    ['REDIS_URL', 'http://x', 'REDIS_URL must be a redis://'],
    ['REDIS_COMMAND_TIMEOUT_MS', '0', 'REDIS_COMMAND_TIMEOUT_MS must be an integer between 5'],
    ['REDIS_BREAKER_FAILURES', '0', 'REDIS_BREAKER_FAILURES must be an integer between 1'],
    ['REDIS_BREAKER_RETRY_MS', 'soon', 'REDIS_BREAKER_RETRY_MS must be an integer'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of'],
    ['LOG_FORMAT', 'xml', 'LOG_FORMAT must be "json" or "pretty"'],
    ['LEADER_LEASE_MS', '10', 'LEADER_LEASE_MS must be an integer between 1000'],
  ])('rejects %s=%s with a message naming the variable', (name, value, expected) => {
    const problems = problemsOf({ ...KEY, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
    expect(problems[0].startsWith(name)).toBe(true);
  });

  it('never echoes a database password in its error', () => {
    const [problem] = problemsOf({ ...KEY, DATABASE_URL: 'mysql://user:s3cretpass@db/x' });
    expect(problem).not.toContain('s3cretpass');
  });

  it('refuses production without PARTNER_API_KEY and points to the demo', () => {
    const [problem] = problemsOf({});
    expect(problem).toMatch(
      /^PARTNER_API_KEY is required .*\(or PARTNER_API_KEYS for several keys\)/,
    );
    expect(problem).toContain('npm run demo');
  });

  describe('PARTNER_API_KEYS', () => {
    it('reads comma-separated keys in order, trimmed', () => {
      expect(loadConfig({ PARTNER_API_KEYS: ' key-a ,key-b,  key-c' }).partner.apiKeys).toEqual([
        'key-a',
        'key-b',
        'key-c',
      ]);
    });

    it('keeps PARTNER_API_KEY working for one key, and counts an empty variable as unset', () => {
      expect(loadConfig(KEY).partner.apiKeys).toEqual(['k-123456']);
      expect(loadConfig({ ...KEY, PARTNER_API_KEYS: '' }).partner.apiKeys).toEqual(['k-123456']);
      expect(loadConfig({ PARTNER_API_KEY: '', PARTNER_API_KEYS: 'a,b' }).partner.apiKeys).toEqual([
        'a',
        'b',
      ]);
    });

    it.each([
      ['an empty entry', 'key-a,,key-b', /^PARTNER_API_KEYS .*empty entry #2 of 3$/],
      ['a trailing comma', 'key-a,key-b,', /^PARTNER_API_KEYS .*empty entry #3 of 3$/],
      ['a blank entry', 'key-a, ,key-b', /^PARTNER_API_KEYS .*empty entry #2 of 3$/],
      [
        'a duplicate',
        'key-a,key-b, key-a',
        /^PARTNER_API_KEYS lists the same key twice \(entries #1 and #3\)/,
      ],
    ])('refuses %s with one line naming the variable and no key', (_what, value, message) => {
      const problems = problemsOf({ PARTNER_API_KEYS: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(message);
      expect(problems[0]).not.toMatch(/key-[ab]/);
    });

    it('refuses both variables at once, naming both', () => {
      const problems = problemsOf({ ...KEY, PARTNER_API_KEYS: 'a,b' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^PARTNER_API_KEY and PARTNER_API_KEYS are both set/);
    });
  });

  describe('SYNC_BUDGET_SHARE', () => {
    it.each([
      ['0.9', 0.9],
      ['1', 1],
      ['0', 0],
      ['.5', 0.5],
      ['0.125', 0.125],
      ['1.0', 1],
    ])('reads %s as %d', (value, share) => {
      expect(loadConfig({ ...KEY, SYNC_BUDGET_SHARE: value }).sync.budgetShare).toBe(share);
    });

    it('is 0.9 by default', () => {
      expect(loadConfig(KEY).sync.budgetShare).toBe(0.9);
    });

    it.each(['1.5', '-0.1', 'half', '0.12345', '90%'])(
      'refuses %s with one line naming the variable',
      (value) => {
        expect(problemsOf({ ...KEY, SYNC_BUDGET_SHARE: value })).toEqual([
          `SYNC_BUDGET_SHARE must be a fraction between 0 and 1 such as 0.9, got "${value}"`,
        ]);
      },
    );
  });

  describe('retired variables', () => {
    it('SYNC_PREFETCH no longer stops the boot: a notice says what replaced it', () => {
      const c = loadConfig({ ...KEY, SYNC_PREFETCH: 'true' });
      expect(c.notices).toEqual([expect.stringContaining('SYNC_PREFETCH is retired')]);
      expect(c.notices[0]).toContain('SYNC_BUDGET_SHARE');
    });

    it('gives no notice when none is set', () => {
      expect(loadConfig(KEY).notices).toEqual([]);
    });
  });

  it('refuses NODE_ENV=production without ADMIN_TOKEN', () => {
    const [problem] = problemsOf({ ...KEY, NODE_ENV: 'production' });
    expect(problem).toMatch(/^ADMIN_TOKEN is required when NODE_ENV=production/);
  });

  it('runs the demo without a key, on the simulator unless a partner URL is given', () => {
    expect(loadConfig({}, 'demo').partner.simulated).toBe(true);
    expect(loadConfig({ PARTNER_API_URL: 'http://127.0.0.1:4010' }, 'demo').partner.simulated).toBe(
      false,
    );
  });

  it("turns the built-in simulator's change model on with SIM_CHANGES=1, and names a bad value", () => {
    expect(loadConfig({}, 'demo').partner.simulatorChanges).toBe(false);
    expect(loadConfig({ SIM_CHANGES: '1' }, 'demo').partner.simulatorChanges).toBe(true);
    expect(problemsOf({ ...KEY, SIM_CHANGES: 'yes' })[0]).toMatch(/^SIM_CHANGES must be 1 or 0/);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ...KEY, PORT: '', REDIS_URL: '' }).http.port).toBe(3000);
  });

  describe('.env.example', () => {
    const text = readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    // The lines `cp .env.example .env` would set, as docker compose reads them (KEY=value).
    const active = Object.fromEntries(
      text
        .split('\n')
        .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );

    it('changes no default when copied to .env (every optional value is commented out)', () => {
      expect(loadConfig(active, 'demo')).toEqual(loadConfig({}, 'demo'));
      expect(loadConfig({ ...active, ...KEY })).toEqual(loadConfig(KEY));
    });

    it('mentions every variable the service reads', () => {
      for (const name of Object.keys(new EnvSchema())) {
        expect(text).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
      }
    });
  });
});
