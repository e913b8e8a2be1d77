import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { ReadinessService } from './readiness.service';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and serving HTTP' })
  @ApiResponse({ status: 200, description: '{ status: "ok", uptimeSeconds }' })
  live(): { status: 'ok'; uptimeSeconds: number } {
    return this.readiness.live();
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: database, migrations, scheduler (and Redis when configured), by name',
  })
  @ApiResponse({
    status: 200,
    description:
      'every check is up; { status: "ok", info, details }. Redis is an optional cache: its ' +
      'detail says state "degraded" (breaker, connected, degradedSince) and never makes it 503',
  })
  @ApiResponse({ status: 503, description: 'a check is down; { status: "error", error, details }' })
  async ready(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthCheckResult> {
    const { httpStatus, body } = await this.readiness.ready();
    res.status(httpStatus);
    return body;
  }

  @Get()
  @ApiOperation({ summary: 'Alias of /health/ready' })
  @ApiResponse({ status: 200, description: 'ready' })
  @ApiResponse({ status: 503, description: 'not ready' })
  async health(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthCheckResult> {
    return this.ready(res);
  }
}
