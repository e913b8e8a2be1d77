import {
  CanActivate,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { AdminFailures } from './admin-failures';

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Guards the control endpoints (pause, resume, run) with `Authorization: Bearer <ADMIN_TOKEN>`.
 * Both sides are hashed first so timingSafeEqual compares equal-length digests: neither the
 * token's content nor its length leaks through timing. Without ADMIN_TOKEN (demo only; config
 * refuses production without it) the endpoints are open and a warning is logged at boot.
 *
 * A client (the request's IP as Fastify sees it: the socket's peer, trustProxy is off) with
 * ADMIN_FAILURE_LIMIT failed attempts in ADMIN_FAILURE_WINDOW_MS gets 429 with Retry-After for
 * every attempt, the right token included, until the oldest failure leaves the window: guessing
 * stays at the limit's pace, and a blocked client learns nothing about its guesses.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate, OnApplicationBootstrap {
  private readonly logger = new Logger(AdminTokenGuard.name);
  private readonly expected: Buffer | null;
  private readonly failureLimit: number;
  private readonly failureWindowMs: number;

  constructor(
    @InjectConfig() config: AppConfig,
    // Shared by every module's guard: one count per client for the control and webhooks APIs.
    private readonly failures: AdminFailures,
  ) {
    this.expected = config.adminToken ? sha256(config.adminToken) : null;
    this.failureLimit = config.adminFailures.limit;
    this.failureWindowMs = config.adminFailures.windowMs;
  }

  onApplicationBootstrap(): void {
    if (!this.expected) {
      this.logger.warn({
        msg: 'ADMIN_TOKEN is not set: pause, resume and run are open to anyone who can reach the service',
      });
    }
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const client = request.ip;
    const waitMs = this.failures.blockedFor(client);
    if (waitMs > 0) throw this.tooMany(http.getResponse<FastifyReply>(), waitMs);
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      this.failed(client);
      throw new UnauthorizedException(
        'Missing admin token: send Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    if (!timingSafeEqual(sha256(match[1]), this.expected)) {
      this.failed(client);
      throw new UnauthorizedException('Invalid admin token');
    }
    return true;
  }

  /** Counts a failure; the one that blocks the client is logged (the client, never the token). */
  private failed(client: string): void {
    const blockedMs = this.failures.recordFailure(client);
    if (blockedMs > 0) {
      this.logger.warn({
        msg: 'control client blocked after failed admin token attempts',
        client,
        failures: this.failureLimit,
        windowMs: this.failureWindowMs,
        retryAfterSeconds: Math.ceil(blockedMs / 1000),
      });
    }
  }

  private tooMany(reply: FastifyReply, waitMs: number): HttpException {
    const seconds = Math.ceil(waitMs / 1000);
    reply.header('Retry-After', String(seconds));
    return new HttpException(
      `Too many failed admin token attempts; retry in ${seconds} s`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
