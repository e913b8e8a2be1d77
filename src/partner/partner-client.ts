import { HttpService } from '@nestjs/axios';
import { Injectable, Logger } from '@nestjs/common';
import type { AxiosResponse } from 'axios';
import { isUtf8 } from 'node:buffer';
import { firstValueFrom } from 'rxjs';
import {
  PartnerClientError,
  PartnerInvalidPayloadError,
  PartnerNetworkError,
  PartnerNotFoundError,
  PartnerRateLimitedError,
  PartnerServerError,
  PartnerTimeoutError,
  PartnerUnauthorizedError,
  type PartnerError,
} from './partner-errors';
import { PartnerEndpoint } from './partner-endpoint';
import { parsePartnerInventory } from './partner-payload';
import type { PartnerInventory } from './partner.types';
import { resetFromBody, retryAfterFromHeaders } from './rate-limit-hints';

/** Bodies larger than this are not inventory for one product-date. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * One raw call to the partner's inventory endpoint: no budget, no retries (RateLimiterService
 * owns both, through PartnerGateway). Returns validated inventory or throws a PartnerError.
 * Raw axios errors never escape: they carry config.headers, i.e. the API key.
 */
@Injectable()
export class PartnerClient {
  private readonly logger = new Logger(PartnerClient.name);

  constructor(
    private readonly http: HttpService,
    private readonly endpoint: PartnerEndpoint,
  ) {}

  /** `apiKey` is the key the limiter picked for this call. */
  async fetchInventory(productId: number, date: string, apiKey: string): Promise<PartnerInventory> {
    const started = Date.now();
    try {
      const res = await this.get(productId, date, apiKey);
      const inventory = this.interpret(res, productId, date);
      this.logger.debug({
        msg: 'partner call',
        productId,
        date,
        status: res.status,
        slots: inventory.length,
        durationMs: Date.now() - started,
        outcome: 'ok',
      });
      return inventory;
    } catch (err) {
      const e = err as PartnerError;
      this.logger.debug({
        msg: 'partner call failed',
        productId,
        date,
        durationMs: Date.now() - started,
        outcome: e.outcome,
        error: e.message,
      });
      throw err;
    }
  }

  private async get(
    productId: number,
    date: string,
    apiKey: string,
  ): Promise<AxiosResponse<Buffer>> {
    const url = `${this.endpoint.baseUrl.replace(/\/+$/, '')}/api/v1/inventory/${encodeURIComponent(String(productId))}`;
    // One wall-clock deadline for headers and body: axios's own `timeout` stops counting once the
    // headers arrive, and a body trickling a byte at a time keeps resetting the socket idle timer.
    const deadline = AbortSignal.timeout(this.endpoint.timeoutMs);
    try {
      return await firstValueFrom(
        this.http.get<Buffer>(url, {
          params: { date },
          headers: { 'x-api-key': apiKey, accept: 'application/json' },
          signal: deadline,
          // The body is decoded, parsed and validated here, so bytes that are not UTF-8 and
          // malformed JSON become typed errors (axios' text decoding swaps bad bytes for U+FFFD).
          responseType: 'arraybuffer',
          transformResponse: (data: unknown) => data,
          validateStatus: () => true,
          maxContentLength: MAX_BODY_BYTES,
          maxRedirects: 0,
        }),
      );
    } catch (err) {
      throw this.transportError(err, deadline.aborted);
    }
  }

  /** Maps an axios transport failure to a typed error carrying nothing but the error code. */
  private transportError(err: unknown, pastDeadline: boolean): PartnerError {
    const code = (err as { code?: unknown }).code;
    if (pastDeadline || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      return new PartnerTimeoutError(this.endpoint.timeoutMs);
    }
    if (code === 'ERR_BAD_RESPONSE' || code === 'ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED') {
      return new PartnerInvalidPayloadError('', 'response body too large or unreadable');
    }
    return new PartnerNetworkError(typeof code === 'string' ? code : 'UNKNOWN');
  }

  private interpret(res: AxiosResponse<Buffer>, productId: number, date: string): PartnerInventory {
    const { status } = res;
    if (status === 200) return parsePartnerInventory(parseJson(utf8Text(res.data)), date);
    if (status === 429) {
      const body = safeJson(String(res.data));
      return fail(
        new PartnerRateLimitedError(resetFromBody(body), retryAfterFromHeaders(res.headers)),
      );
    }
    if (status === 401 || status === 403) return fail(new PartnerUnauthorizedError(status));
    if (status === 404) return fail(new PartnerNotFoundError(productId, date));
    if (status >= 500) return fail(new PartnerServerError(status));
    return fail(new PartnerClientError(status));
  }
}

function fail(error: PartnerError): never {
  throw error;
}

/**
 * The body as text, exactly as sent: JSON is UTF-8 (RFC 8259), and a byte that is not would be
 * stored as U+FFFD, i.e. not as the partner sent it. Names the first bad byte, not the text.
 */
function utf8Text(data: Buffer): string {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const text = bytes.toString('utf8');
  if (!isUtf8(bytes)) {
    // Every U+FFFD before the first bad byte was sent as such (EF BF BD), so offsets still agree.
    for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
      const at = Buffer.byteLength(text.slice(0, i));
      if (bytes[at] !== 0xef || bytes[at + 1] !== 0xbf || bytes[at + 2] !== 0xbd) {
        throw new PartnerInvalidPayloadError(
          '',
          `body is not valid UTF-8 (byte 0x${bytes[at].toString(16).padStart(2, '0')} at offset ${at})`,
        );
      }
    }
    throw new PartnerInvalidPayloadError('', 'body is not valid UTF-8');
  }
  // A byte order mark is not part of the JSON text (axios' text decoding dropped it too).
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new PartnerInvalidPayloadError('', 'body is not valid JSON');
  }
}

function safeJson(text: unknown): unknown {
  try {
    return typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    return null;
  }
}
