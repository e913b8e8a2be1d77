import path from 'node:path';
import { defineConfig } from 'prisma/config';

// Prisma 7's CLI wants to download a schema engine before every command, even `generate`, which
// does not need it. These machines reach only the npm registry, so point it at any existing file;
// migrations are applied by the service itself (src/core/database/migrator.ts).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, 'prisma', 'schema.prisma');

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  },
});
