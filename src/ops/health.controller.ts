import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { PrismaService } from '../core/prisma.service';

@Controller('health')
export class HealthController {
  constructor(private readonly prisma: PrismaService) {}

  /** 200 when the database answers, 503 otherwise. */
  @Get()
  @HttpCode(HttpStatus.OK)
  async health(@Res({ passthrough: true }) res: Response): Promise<{ status: string }> {
    if (await this.prisma.ping()) return { status: 'ok' };
    res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'error' };
  }
}
