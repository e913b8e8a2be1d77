import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { UI_CONTENT_SECURITY_POLICY } from './ui-assets';
import { UiService } from './ui.service';

/** The operator's page: one HTML file, its script and stylesheet. All data comes from /api/v1. */
@ApiTags('operator page')
@Controller()
export class UiController {
  constructor(private readonly ui: UiService) {}

  @Get()
  @ApiOperation({ summary: "The operator's page (HTML): freshness, budget, runs, pause/resume" })
  @ApiProduces('text/html')
  @Header('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY)
  @Header('Cache-Control', 'no-cache')
  page(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  @Get('ui/app.js')
  @ApiOperation({ summary: "The operator page's script" })
  @ApiProduces('text/javascript')
  @Header('Cache-Control', 'no-cache')
  script(@Res() res: Response): void {
    this.send(res, 'app.js');
  }

  @Get('ui/app.css')
  @ApiOperation({ summary: "The operator page's stylesheet" })
  @ApiProduces('text/css')
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
