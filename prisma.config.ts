import path from 'node:path';
import { defineConfig } from 'prisma/config';

// No engine override here: `prisma migrate dev/diff/deploy` need Prisma's real schema engine.
// The offline `prisma generate` (scripts/prisma-generate.cjs) sets one only when it is missing.
export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  },
});
