/**
 * The hello-world baseline on Nest's Fastify adapter, to report what moving the service to
 * Fastify could gain at most. Optional: @nestjs/platform-fastify is not a dependency of the
 * service; bench/read-api.ts starts this only when it is installed
 * (`npm install --no-save @nestjs/platform-fastify@11`).
 */
import 'reflect-metadata';
import type { NestApplicationOptions } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { NestFactory } from '@nestjs/core';
import { HelloModule } from './_hello-world';

async function serve(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as {
    FastifyAdapter: new () => AbstractHttpAdapter;
  };
  const options: NestApplicationOptions = { logger: false };
  const app = await NestFactory.create(HelloModule, new FastifyAdapter(), options);
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
