import {
  CanActivate,
  ExecutionContext,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Guards the control endpoints (pause, resume, run) with `Authorization: Bearer <ADMIN_TOKEN>`.
 * Both sides are hashed first so timingSafeEqual compares equal-length digests: neither the
 * token's content nor its length leaks through timing. Without ADMIN_TOKEN (demo only; config
 * refuses production without it) the endpoints are open and a warning is logged at boot.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate, OnApplicationBootstrap {
  private readonly logger = new Logger(AdminTokenGuard.name);
  private readonly expected: Buffer | null;

  constructor(@InjectConfig() config: AppConfig) {
    this.expected = config.adminToken ? sha256(config.adminToken) : null;
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
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      throw new UnauthorizedException(
        'Missing admin token: send Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    if (!timingSafeEqual(sha256(match[1]), this.expected)) {
      throw new UnauthorizedException('Invalid admin token');
    }
    return true;
  }
}
