import { resetFromBody, retryAfterFromHeaders } from './rate-limit-hints';

const NOW = Date.parse('2025-04-03T10:00:00Z');

describe('resetFromBody', () => {
  it.each<[string, unknown, number | null]>([
    ['epoch ms', { rateLimitState: { remaining: 0, reset: NOW + 30_000 } }, NOW + 30_000],
    ['epoch seconds', { rateLimitState: { reset: (NOW + 30_000) / 1000 } }, NOW + 30_000],
    ['a numeric string', { rateLimitState: { reset: String(NOW + 5000) } }, NOW + 5000],
    ['no rateLimitState', { message: 'Too many requests' }, null],
    ['a null body', null, null],
    ['a date string', { rateLimitState: { reset: 'tomorrow' } }, null],
    // Far hints are read as sent; the limiter caps the hold to 2 windows (holdAfterRateLimit).
    ['a reset 23 h out', { rateLimitState: { reset: NOW + 23 * 3600_000 } }, NOW + 23 * 3600_000],
    [
      'a reset two days out',
      { rateLimitState: { reset: NOW + 48 * 3600_000 } },
      NOW + 48 * 3600_000,
    ],
    ['a reset already past', { rateLimitState: { reset: NOW - 1000 } }, null],
    ['a reset beyond any date', { rateLimitState: { reset: 9e15 } }, null],
    ['a negative reset', { rateLimitState: { reset: -5 } }, null],
  ])('reads %s', (_name, body, expected) => {
    expect(resetFromBody(body, NOW)?.getTime() ?? null).toBe(expected);
  });
});

describe('retryAfterFromHeaders', () => {
  it.each<[string, Record<string, unknown>, number | null]>([
    ['none', {}, null],
    ['Retry-After seconds', { 'retry-after': '12' }, 12_000],
    ['Retry-After HTTP date', { 'retry-after': new Date(NOW + 7000).toUTCString() }, 7000],
    ['X-RateLimit-Reset delta seconds', { 'x-ratelimit-reset': '20' }, 20_000],
    ['X-RateLimit-Reset epoch seconds', { 'x-ratelimit-reset': String((NOW + 9000) / 1000) }, 9000],
    ['X-RateLimit-Reset epoch ms', { 'x-ratelimit-reset': String(NOW + 4000) }, 4000],
    ['both, the longest wins', { 'retry-after': '3', 'x-ratelimit-reset': '40' }, 40_000],
    ['garbage', { 'retry-after': 'soon' }, null],
    ['a past epoch', { 'x-ratelimit-reset': String(NOW - 4000) }, null],
    ['Retry-After 23 h', { 'retry-after': String(23 * 3600) }, 23 * 3600_000],
  ])('reads %s', (_name, headers, expected) => {
    expect(retryAfterFromHeaders(headers, NOW)).toBe(expected);
  });
});
