import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { UI_CONTENT_SECURITY_POLICY, UI_PAGE, type UiAsset } from './ui-assets';
import { UiService } from './ui.service';

/**
 * The operator's page: one HTML file, its script modules and stylesheet. All data comes from
 * /api/v1. A page for people, not part of the API, so it is left out of the OpenAPI document.
 */
@ApiExcludeController()
@Controller()
export class UiController {
  constructor(private readonly ui: UiService) {}

  @Get()
  @Header('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY)
  @Header('Cache-Control', 'no-cache')
  page(@Res() res: FastifyReply): void {
    this.send(res, this.ui.asset(UI_PAGE));
  }

  @Get('ui/:file')
  @Header('Cache-Control', 'no-cache')
  file(@Param('file') file: string, @Res() res: FastifyReply): void {
    this.send(res, this.ui.subresource(file));
  }

  private send(res: FastifyReply, asset: UiAsset): void {
    res
      .type(asset.contentType)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'no-referrer')
      .send(asset.body);
  }
}
