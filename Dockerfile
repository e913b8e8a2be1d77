# syntax=docker/dockerfile:1
# Production image: build with every dependency, run with production dependencies only.
#   docker build -t inventory-sync .
#   docker run -p 3000:3000 --env-file .env inventory-sync
# scripts/prod-boot-check.sh reproduces these steps without Docker (CI runs it).

ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so source changes reuse this layer. postinstall generates the Prisma client
# offline (no engine download), which is why scripts/, prisma/ and prisma.config.ts come first.
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional as well: the Prisma CLI, TypeScript and their tree are "devOptional" in the lock
# (dev dependencies that are also optional peers of @prisma/client), which --omit=dev alone keeps.
# Without the CLI the postinstall script skips client generation; the client is compiled into dist/.
COPY scripts/prisma-generate.cjs ./scripts/prisma-generate.cjs
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The service applies these at boot (dist/core/database/migrator.js reads ../../../prisma/migrations).
COPY prisma ./prisma
# The operator's page (GET /) serves these files from <root>/src/ui/assets; tsc does not copy them.
COPY src/ui/assets ./src/ui/assets
# The embedded database (used when DATABASE_URL is unset) lives in DATA_DIR: keep it on a volume.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 3000
# No curl in slim images: Node's fetch asks for readiness (database, migrations, scheduler).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: drains partner work, then exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
