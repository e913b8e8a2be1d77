import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EnvSchema } from './env.schema';

export type RunMode = 'demo' | 'production';

/** The typed, validated configuration every part of the service receives. */
export interface AppConfig {
  mode: RunMode;
  nodeEnv: string | undefined;
  http: { host: string; port: number };
  database: { url: string | undefined; dataDir: string; poolSize: number };
  partner: {
    baseUrl: string;
    /** The partner keys in configured order (PARTNER_API_KEYS, or PARTNER_API_KEY alone); never logged. */
    apiKeys: string[];
    /** True when the built-in simulator stands in for the partner (demo without a partner URL). */
    simulated: boolean;
    /** The built-in simulator runs its change model (SIM_CHANGES) instead of the seat drift. */
    simulatorChanges: boolean;
    rateLimit: number;
    rateWindowMs: number;
    timeoutMs: number;
    maxConcurrency: number;
  };
  sync: {
    productIds: number[];
    timeZone: string;
    cron: { daily: string; fourHourly: string; quarterHourly: string; extended: string };
    onBoot: boolean;
    /**
     * The share of each key's limit (0..1) the value rule may fill with calls no floor asks for
     * yet (SYNC_BUDGET_SHARE): the spare budget, spent on the calls of highest value.
     */
    budgetShare: number;
    /** A run none of whose product-dates finished for this long is flagged as stalled. */
    stallAfterMs: number;
  };
  adminToken: string | undefined;
  /**
   * Failed control attempts (wrong or missing admin token) a client may make per window before
   * its attempts are refused with 429, counted per source address on each instance.
   */
  adminFailures: { limit: number; windowMs: number };
  /** The change feed: how long events are kept (then pruned; older cursors get 410). */
  changeFeed: { retentionMs: number };
  /**
   * What the value rule learns (learned-rates.ts): the half-life of a product-date's change
   * statistics, and of its read count, and how often each instance flushes the reads it counted.
   */
  learning: {
    changeHalfLifeMs: number;
    readHalfLifeMs: number;
    readFlushMs: number;
    /** How often the leader refreshes the product and horizon pools (the priors). */
    poolsRefreshMs: number;
  };
  /**
   * Webhook delivery: private and loopback destinations only when allowed (SSRF), a per-attempt
   * timeout, attempts in flight at once per instance, how long a delivery is retried, the first
   * retry's delay (doubled per attempt).
   */
  webhooks: {
    allowPrivateUrls: boolean;
    timeoutMs: number;
    concurrency: number;
    retryMs: number;
    retryBaseMs: number;
  };
  redisUrl: string | undefined;
  log: { level: string; format: 'json' | 'pretty' };
  cache: {
    ttlMs: number;
    maxEntries: number;
    /** How long a last good answer is kept to be served, stale-marked, while the database is down. */
    staleIfErrorMs: number;
    /**
     * The shared cache's calls on the read path (REDIS_URL): each has this deadline; after
     * `breakerFailures` failures in a row reads skip Redis, and one PING every `breakerRetryMs`
     * tells when it answers again.
     */
    redis: { commandTimeoutMs: number; breakerFailures: number; breakerRetryMs: number };
  };
  cluster: { leaseMs: number; instanceId: string | undefined };
  shutdownTimeoutMs: number;
  /** What the operator should know about the environment but does not stop the boot (logged). */
  notices: string[];
}

/** Thrown when the environment is invalid; its message is one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Key used by the demo when no partner key is configured; the simulator accepts it. */
export const DEMO_PARTNER_API_KEY = 'demo-key';

function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => Object.values(e.constraints ?? {}).slice(0, 1));
}

/** Empty strings count as unset, as in most deployment tools' env files. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/**
 * The keys of PARTNER_API_KEYS (trimmed), or PARTNER_API_KEY alone. Problems name the variable and
 * the entry's position, never the key itself.
 */
/** Variables an older release read and this one ignores, with what replaced them (logged at boot). */
export const RETIRED_VARIABLES: Readonly<Record<string, string>> = {
  SYNC_PREFETCH:
    'SYNC_PREFETCH is retired and ignored: the spare budget goes to the calls of highest value, up to SYNC_BUDGET_SHARE of each key (README, Sync engine)',
};

function partnerKeys(
  single: string | undefined,
  list: string | undefined,
  problems: string[],
): string[] {
  if (single !== undefined && list !== undefined) {
    problems.push(
      'PARTNER_API_KEY and PARTNER_API_KEYS are both set; set only PARTNER_API_KEYS (comma-separated) for several keys, or only PARTNER_API_KEY for one',
    );
    return [];
  }
  if (list === undefined) return single !== undefined ? [single] : [];
  const keys = list.split(',').map((k) => k.trim());
  const empty = keys.findIndex((k) => k === '');
  if (empty >= 0) {
    problems.push(
      `PARTNER_API_KEYS must be comma-separated keys without empty entries, got an empty entry #${empty + 1} of ${keys.length}`,
    );
    return [];
  }
  const long = keys.findIndex((k) => k.length > 1000);
  if (long >= 0) {
    problems.push(`PARTNER_API_KEYS entry #${long + 1} is longer than 1000 characters`);
    return [];
  }
  const dup = keys.findIndex((k, i) => keys.indexOf(k) !== i);
  if (dup >= 0) {
    problems.push(
      `PARTNER_API_KEYS lists the same key twice (entries #${keys.indexOf(keys[dup]) + 1} and #${dup + 1}); each key must appear once`,
    );
    return [];
  }
  return keys;
}

/** Parses and validates the environment. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv, mode: RunMode = 'production'): AppConfig {
  const raw = withoutEmpty(env);
  const known = Object.keys(new EnvSchema());
  const input = Object.fromEntries(Object.entries(raw).filter(([k]) => known.includes(k)));
  const e = plainToInstance(EnvSchema, input);
  const problems = messages(validateSync(e, { skipMissingProperties: false }));
  if (problems.length > 0) throw new ConfigError(problems);

  const partnerUrlGiven = raw.PARTNER_API_URL !== undefined;
  const apiKeys = partnerKeys(e.PARTNER_API_KEY, e.PARTNER_API_KEYS, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  if (mode === 'production') {
    if (apiKeys.length === 0) {
      problems.push(
        'PARTNER_API_KEY is required to call the partner API (or PARTNER_API_KEYS for several keys); for a try-out with the built-in partner simulator run `npm run demo`',
      );
    }
    if (e.NODE_ENV === 'production' && !e.ADMIN_TOKEN) {
      problems.push(
        'ADMIN_TOKEN is required when NODE_ENV=production (it guards pause, resume and run); generate one with: openssl rand -hex 32',
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const notices = Object.entries(RETIRED_VARIABLES)
    .filter(([name]) => raw[name] !== undefined)
    .map(([, notice]) => notice);

  return {
    mode,
    nodeEnv: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT },
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR, poolSize: e.DATABASE_POOL_SIZE },
    partner: {
      baseUrl: e.PARTNER_API_URL,
      apiKeys: apiKeys.length > 0 ? apiKeys : [DEMO_PARTNER_API_KEY],
      simulated: mode === 'demo' && !partnerUrlGiven,
      simulatorChanges: e.SIM_CHANGES === '1' || e.SIM_CHANGES === 'true',
      rateLimit: e.PARTNER_RATE_LIMIT,
      rateWindowMs: e.PARTNER_RATE_WINDOW_MS,
      timeoutMs: e.PARTNER_TIMEOUT_MS,
      maxConcurrency: e.PARTNER_MAX_CONCURRENCY,
    },
    sync: {
      productIds: [...new Set(e.SYNC_PRODUCT_IDS.split(',').map((v) => Number(v.trim())))],
      timeZone: e.SYNC_TIMEZONE,
      cron: {
        daily: e.SYNC_CRON_DAILY,
        fourHourly: e.SYNC_CRON_FOUR_HOURLY,
        quarterHourly: e.SYNC_CRON_QUARTER_HOURLY,
        extended: e.SYNC_CRON_EXTENDED,
      },
      onBoot: e.SYNC_ON_BOOT === 'true',
      budgetShare: Number(e.SYNC_BUDGET_SHARE),
      stallAfterMs: e.SYNC_STALL_AFTER_MS,
    },
    adminToken: e.ADMIN_TOKEN,
    adminFailures: { limit: e.ADMIN_FAILURE_LIMIT, windowMs: e.ADMIN_FAILURE_WINDOW_MS },
    changeFeed: { retentionMs: e.CHANGE_FEED_RETENTION_DAYS * 86_400_000 },
    learning: {
      changeHalfLifeMs: e.CHANGE_RATE_HALF_LIFE_MS,
      readHalfLifeMs: e.READ_DEMAND_HALF_LIFE_MS,
      readFlushMs: e.READ_DEMAND_FLUSH_MS,
      poolsRefreshMs: e.CHANGE_RATE_POOLS_REFRESH_MS,
    },
    webhooks: {
      allowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS === 'true',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      retryMs: e.WEBHOOK_RETRY_HOURS * 3_600_000,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    },
    redisUrl: e.REDIS_URL,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT as 'json' | 'pretty' },
    cache: {
      ttlMs: e.CACHE_TTL_MS,
      maxEntries: e.CACHE_MAX_ENTRIES,
      staleIfErrorMs: e.CACHE_STALE_IF_ERROR_MS,
      redis: {
        commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
        breakerFailures: e.REDIS_BREAKER_FAILURES,
        breakerRetryMs: e.REDIS_BREAKER_RETRY_MS,
      },
    },
    cluster: { leaseMs: e.LEADER_LEASE_MS, instanceId: e.INSTANCE_ID },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    notices,
  };
}
