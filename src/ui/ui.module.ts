import { Module } from '@nestjs/common';
import { UiController } from './ui.controller';
import { UiService } from './ui.service';

/** GET /: the operator's page (static files from src/ui/assets, no build step, no CDN). */
@Module({
  controllers: [UiController],
  providers: [UiService],
})
export class UiModule {}
