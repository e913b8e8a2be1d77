import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  type ValidationArguments,
} from 'class-validator';
import { CronTime } from 'cron';

/** Turns "42" into 42 and leaves anything else as it came, so the error can quote it. */
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : value;

const intRange = (name: string, min: number, max: number) => [
  Transform(toInt),
  IsInt({ message: `${name} must be an integer between ${min} and ${max}, got "$value"` }),
  Min(min, { message: `${name} must be an integer between ${min} and ${max}, got "$value"` }),
  Max(max, { message: `${name} must be an integer between ${min} and ${max}, got "$value"` }),
];

const applyAll =
  (decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const d of decorators) d(target, key);
  };

const IntRange = (name: string, min: number, max: number) => applyAll(intRange(name, min, max));

@ValidatorConstraint({ name: 'timeZone' })
class IsTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string' || value.length === 0) return false;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'SYNC_TIMEZONE must be a valid IANA time zone such as UTC or Asia/Kolkata, got "$value"';
  }
}

@ValidatorConstraint({ name: 'cron' })
class IsCronExpression implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      new CronTime(value);
      return true;
    } catch {
      return false;
    }
  }
  defaultMessage(args?: ValidationArguments): string {
    return `${args?.property} must be a cron expression such as "0 0 * * *", got "$value"`;
  }
}

@ValidatorConstraint({ name: 'productIds' })
class IsProductIdList implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return (
      typeof value === 'string' &&
      value
        .split(',')
        .map((v) => v.trim())
        .every((v) => /^[1-9]\d{0,8}$/.test(v))
    );
  }
  defaultMessage(): string {
    return 'SYNC_PRODUCT_IDS must be a comma-separated list of positive integer product ids such as "14,15", got "$value"';
  }
}

@ValidatorConstraint({ name: 'url' })
class IsHttpUrl implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const u = new URL(value);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }
  defaultMessage(args?: ValidationArguments): string {
    return `${args?.property} must be an http(s) URL such as https://leap-api.tickete.co, got "$value"`;
  }
}

@ValidatorConstraint({ name: 'dbUrl' })
class IsPostgresUrl implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const u = new URL(value);
      return u.protocol === 'postgresql:' || u.protocol === 'postgres:';
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    // The URL may hold a password: never echo it.
    return 'DATABASE_URL must be a postgresql:// URL such as postgresql://user:pass@host:5432/db (unset it to use the embedded database)';
  }
}

@ValidatorConstraint({ name: 'redisUrl' })
class IsRedisUrl implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const u = new URL(value);
      return u.protocol === 'redis:' || u.protocol === 'rediss:';
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379';
  }
}

/**
 * The raw environment as strings, validated once at boot. Every variable the service reads is
 * declared here; nothing else in the code reads process.env.
 */
export class EnvSchema {
  @IntRange('PORT', 0, 65535)
  PORT: number = 3000;

  @IsString()
  @MinLength(1, { message: 'HOST must not be empty' })
  HOST: string = '0.0.0.0';

  @IsOptional()
  @Validate(IsPostgresUrl)
  DATABASE_URL?: string;

  @IsString()
  @MinLength(1, { message: 'DATA_DIR must not be empty' })
  DATA_DIR: string = './data';

  @IntRange('DATABASE_POOL_SIZE', 1, 100)
  DATABASE_POOL_SIZE: number = 10;

  @Validate(IsHttpUrl)
  PARTNER_API_URL: string = 'https://leap-api.tickete.co';

  @IsOptional()
  @IsString()
  @MinLength(1, { message: 'PARTNER_API_KEY must not be empty when set' })
  @MaxLength(1000, { message: 'PARTNER_API_KEY must be at most 1000 characters' })
  PARTNER_API_KEY?: string;

  /** Several keys, comma-separated; its entries are checked in loadConfig (never echoed). */
  @IsOptional()
  @IsString()
  @MaxLength(100_000, { message: 'PARTNER_API_KEYS must be at most 100000 characters' })
  PARTNER_API_KEYS?: string;

  @IntRange('PARTNER_RATE_LIMIT', 1, 100000)
  PARTNER_RATE_LIMIT: number = 30;

  @IntRange('PARTNER_RATE_WINDOW_MS', 100, 86400000)
  PARTNER_RATE_WINDOW_MS: number = 60000;

  @IntRange('PARTNER_TIMEOUT_MS', 100, 600000)
  PARTNER_TIMEOUT_MS: number = 15000;

  @IntRange('PARTNER_MAX_CONCURRENCY', 1, 50)
  PARTNER_MAX_CONCURRENCY: number = 32;

  @IsIn(['0', '1', 'true', 'false'], { message: 'SIM_CHANGES must be 1 or 0, got "$value"' })
  SIM_CHANGES: string = '0';

  @Validate(IsProductIdList)
  SYNC_PRODUCT_IDS: string = '14,15';

  @Validate(IsTimeZone)
  SYNC_TIMEZONE: string = 'UTC';

  @Validate(IsCronExpression)
  SYNC_CRON_DAILY: string = '0 0 * * *';

  @Validate(IsCronExpression)
  SYNC_CRON_FOUR_HOURLY: string = '0 */4 * * *';

  @Validate(IsCronExpression)
  SYNC_CRON_QUARTER_HOURLY: string = '*/15 * * * *';

  @Validate(IsCronExpression)
  SYNC_CRON_EXTENDED: string = '0 1 * * 0';

  @IsIn(['true', 'false'], { message: 'SYNC_ON_BOOT must be "true" or "false", got "$value"' })
  SYNC_ON_BOOT: string = 'true';

  /** A fraction 0..1 with at most 3 decimals ("0.9", "1", ".5"); read with Number in app-config. */
  @Matches(/^(0(\.\d{1,3})?|\.\d{1,3}|1(\.0{1,3})?)$/, {
    message: 'SYNC_BUDGET_SHARE must be a fraction between 0 and 1 such as 0.9, got "$value"',
  })
  SYNC_BUDGET_SHARE: string = '0.9';

  @IntRange('SYNC_STALL_AFTER_MS', 1000, 86400000)
  SYNC_STALL_AFTER_MS: number = 300000;

  @IsOptional()
  @IsString()
  @MinLength(16, {
    message: 'ADMIN_TOKEN must be at least 16 characters (generate one with: openssl rand -hex 32)',
  })
  @MaxLength(1000, { message: 'ADMIN_TOKEN must be at most 1000 characters' })
  ADMIN_TOKEN?: string;

  @IntRange('ADMIN_FAILURE_LIMIT', 1, 100)
  ADMIN_FAILURE_LIMIT: number = 10;

  @IntRange('ADMIN_FAILURE_WINDOW_MS', 1000, 86400000)
  ADMIN_FAILURE_WINDOW_MS: number = 60000;

  @IntRange('CHANGE_FEED_RETENTION_DAYS', 1, 365)
  CHANGE_FEED_RETENTION_DAYS: number = 7;

  @IntRange('CHANGE_RATE_HALF_LIFE_MS', 3600000, 7776000000)
  CHANGE_RATE_HALF_LIFE_MS: number = 604800000;

  @IntRange('READ_DEMAND_HALF_LIFE_MS', 60000, 2592000000)
  READ_DEMAND_HALF_LIFE_MS: number = 21600000;

  @IntRange('CHANGE_RATE_POOLS_REFRESH_MS', 1000, 3600000)
  CHANGE_RATE_POOLS_REFRESH_MS: number = 300000;

  @IntRange('READ_DEMAND_FLUSH_MS', 100, 600000)
  READ_DEMAND_FLUSH_MS: number = 10000;

  @IsIn(['true', 'false'], {
    message: 'WEBHOOK_ALLOW_PRIVATE_URLS must be "true" or "false", got "$value"',
  })
  WEBHOOK_ALLOW_PRIVATE_URLS: string = 'false';

  @IntRange('WEBHOOK_TIMEOUT_MS', 100, 60000)
  WEBHOOK_TIMEOUT_MS: number = 10000;

  @IntRange('WEBHOOK_CONCURRENCY', 1, 64)
  WEBHOOK_CONCURRENCY: number = 8;

  @IntRange('WEBHOOK_RETRY_HOURS', 1, 168)
  WEBHOOK_RETRY_HOURS: number = 24;

  @IntRange('WEBHOOK_RETRY_BASE_MS', 100, 600000)
  WEBHOOK_RETRY_BASE_MS: number = 5000;

  @IsOptional()
  @Validate(IsRedisUrl)
  REDIS_URL?: string;

  @IntRange('REDIS_COMMAND_TIMEOUT_MS', 5, 10000)
  REDIS_COMMAND_TIMEOUT_MS: number = 100;

  @IntRange('REDIS_BREAKER_FAILURES', 1, 1000)
  REDIS_BREAKER_FAILURES: number = 3;

  @IntRange('REDIS_BREAKER_RETRY_MS', 100, 600000)
  REDIS_BREAKER_RETRY_MS: number = 1000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message:
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "$value"',
  })
  LOG_LEVEL: string = 'info';

  @IsIn(['json', 'pretty'], { message: 'LOG_FORMAT must be "json" or "pretty", got "$value"' })
  LOG_FORMAT: string = 'json';

  @IntRange('CACHE_TTL_MS', 0, 3600000)
  CACHE_TTL_MS: number = 600000;

  @IntRange('CACHE_MAX_ENTRIES', 0, 10000000)
  CACHE_MAX_ENTRIES: number = 10000;

  @IntRange('CACHE_STALE_IF_ERROR_MS', 0, 604800000)
  CACHE_STALE_IF_ERROR_MS: number = 86400000;

  @IntRange('LEADER_LEASE_MS', 1000, 600000)
  LEADER_LEASE_MS: number = 15000;

  @IntRange('SHUTDOWN_TIMEOUT_MS', 0, 600000)
  SHUTDOWN_TIMEOUT_MS: number = 20000;

  @IsOptional()
  @IsIn(['production', 'development', 'test'], {
    message: 'NODE_ENV must be one of production, development, test, got "$value"',
  })
  NODE_ENV?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9._:-]{1,100}$/, {
    message: 'INSTANCE_ID must be 1-100 letters, digits or . _ : -, got "$value"',
  })
  INSTANCE_ID?: string;
}
