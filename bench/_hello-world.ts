/**
 * The read benchmark's baseline: a bare NestJS (express) app in its own process, with the read
 * API's route shape and nothing else (no middleware, pipes, filters, logger or database). Started
 * by bench/read-api.ts, which reads the URL from the IPC message.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Param, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';

@Controller('api/v1/experience')
class HelloController {
  @Get(':productId/slots')
  slots(@Param('productId') productId: string, @Query('date') date: string): object {
    return { hello: 'world', productId, date };
  }

  @Get(':productId/dates')
  dates(@Param('productId') productId: string): object {
    return { hello: 'world', productId };
  }
}

@Module({ controllers: [HelloController] })
export class HelloModule {}

async function serve(): Promise<void> {
  const app = await NestFactory.create(HelloModule, new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  process.send?.({ benchServer: url });
  process.on('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
}

// Only when run as the server (bench/_hello-fastify.ts imports HelloModule).
if (require.main === module) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
