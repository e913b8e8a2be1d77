/**
 * The hello-world baseline on Nest's Fastify adapter, the one the service runs on: the same bare
 * app as bench/_hello-world.ts (express), so the read bench reports the service against both.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { HelloModule } from './_hello-world';

async function serve(): Promise<void> {
  const app = await NestFactory.create(HelloModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  process.send?.({ benchServer: url });
  process.on('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
}

serve().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
