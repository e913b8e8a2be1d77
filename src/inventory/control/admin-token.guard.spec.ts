import {
  HttpException,
  Logger,
  UnauthorizedException,
  type ExecutionContext,
} from '@nestjs/common';
import { loadConfig, type AppConfig } from '../../config/app-config';
import { AdminFailures } from './admin-failures';
import { AdminTokenGuard } from './admin-token.guard';

const TOKEN = 'guard-spec-admin-token-0123456789';

/** A guard call from `ip` with `authorization`; returns what it did and the headers it set. */
function attempt(guard: AdminTokenGuard, ip: string, authorization?: string) {
  const headers: Record<string, string> = {};
  const context = {
    switchToHttp: () => ({
      getRequest: () => ({ ip, headers: authorization ? { authorization } : {} }),
      getResponse: () => ({
        header: (name: string, value: string) => (headers[name] = value),
      }),
    }),
  } as unknown as ExecutionContext;
  try {
    guard.canActivate(context);
    return { status: 200, headers };
  } catch (err) {
    if (err instanceof HttpException) return { status: err.getStatus(), headers, err };
    throw err;
  }
}

describe('AdminTokenGuard failed-attempt limit', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const guardWith = (config: AppConfig) => new AdminTokenGuard(config, new AdminFailures(config));
  const guard = (env: Record<string, string> = {}) =>
    guardWith(loadConfig({ PARTNER_API_KEY: 'k-123456', ADMIN_TOKEN: TOKEN, ...env }, 'demo'));

  it('answers 401 to 10 failures, 429 with Retry-After after them, and logs the block once', () => {
    const g = guard();
    for (let i = 0; i < 10; i++) {
      const r = attempt(g, '10.0.0.1', i % 2 ? 'Bearer nope-0123456789abcdef' : undefined);
      expect(r.err).toBeInstanceOf(UnauthorizedException);
    }
    const blocked = attempt(g, '10.0.0.1', 'Bearer nope-0123456789abcdef');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['Retry-After']).toBe('60');
    // The right token from the blocked client waits too, and is not counted as a failure.
    expect(attempt(g, '10.0.0.1', `Bearer ${TOKEN}`).status).toBe(429);
    // Another client is not affected.
    expect(attempt(g, '10.0.0.2', `Bearer ${TOKEN}`).status).toBe(200);

    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toEqual({
      msg: 'control client blocked after failed admin token attempts',
      client: '10.0.0.1',
      failures: 10,
      windowMs: 60_000,
      retryAfterSeconds: 60,
    });
    expect(JSON.stringify(warn.mock.calls)).not.toContain('nope');
    expect(JSON.stringify(warn.mock.calls)).not.toContain(TOKEN);
  });

  it('takes its limit and window from ADMIN_FAILURE_LIMIT and ADMIN_FAILURE_WINDOW_MS', () => {
    const g = guard({ ADMIN_FAILURE_LIMIT: '2', ADMIN_FAILURE_WINDOW_MS: '5000' });
    expect(attempt(g, '::1').status).toBe(401);
    expect(attempt(g, '::1').status).toBe(401);
    const blocked = attempt(g, '::1');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['Retry-After']).toBe('5');
  });

  it('counts successes as nothing: the right token never blocks a client', () => {
    const g = guard({ ADMIN_FAILURE_LIMIT: '1' });
    for (let i = 0; i < 20; i++) expect(attempt(g, '10.0.0.3', `Bearer ${TOKEN}`).status).toBe(200);
  });

  it('limits nothing without ADMIN_TOKEN (the endpoints are open)', () => {
    const g = guardWith(
      loadConfig({ PARTNER_API_KEY: 'k-123456', ADMIN_FAILURE_LIMIT: '1' }, 'demo'),
    );
    for (let i = 0; i < 5; i++) expect(attempt(g, '10.0.0.4').status).toBe(200);
  });
});
