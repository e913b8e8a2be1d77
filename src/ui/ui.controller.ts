import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { UI_CONTENT_SECURITY_POLICY } from './ui-assets';
import { UiService } from './ui.service';

/**
 * The operator's page: one HTML file, its script and stylesheet. All data comes from /api/v1.
 * A page for people, not part of the API, so it is left out of the OpenAPI document.
 */
@ApiExcludeController()
@Controller()
export class UiController {
  constructor(private readonly ui: UiService) {}

  @Get()
  @Header('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY)
  @Header('Cache-Control', 'no-cache')
  page(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  @Get('ui/app.js')
  @Header('Cache-Control', 'no-cache')
  script(@Res() res: Response): void {
    this.send(res, 'app.js');
  }

  @Get('ui/app.css')
  @Header('Cache-Control', 'no-cache')
  stylesheet(@Res() res: Response): void {
    this.send(res, 'app.css');
  }

  private send(res: Response, name: string): void {
    const asset = this.ui.asset(name);
    res
      .type(asset.contentType)
      .set('X-Content-Type-Options', 'nosniff')
      .set('Referrer-Policy', 'no-referrer')
      .send(asset.body);
  }
}
