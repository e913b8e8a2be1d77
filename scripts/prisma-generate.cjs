// Generates the Prisma client offline. Runs on `npm ci` (postinstall) and before every build.
// A production-only install (`npm ci --omit=dev`) has no Prisma CLI and ships a prebuilt dist/,
// so a missing CLI is not an error there.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');

let cli;
try {
  cli = require.resolve('prisma/build/index.js', { paths: [root] });
} catch {
  console.log('prisma CLI not installed (production install?): skipping client generation');
  process.exit(0);
}

/** Where Prisma keeps the schema engine it downloaded: beside @prisma/engines or in its cache. */
function schemaEngineDownloaded() {
  let engines;
  try {
    engines = require(require.resolve('@prisma/engines', { paths: [path.dirname(cli)] }));
  } catch {
    return false;
  }
  const cache = path.join(os.homedir(), '.cache', 'prisma', 'master', engines.enginesVersion);
  const dirs = [engines.getEnginesPath()];
  if (existsSync(cache)) {
    for (const target of readdirSync(cache)) dirs.push(path.join(cache, target));
  }
  return dirs.some(
    (dir) => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('schema-engine')),
  );
}

const env = { ...process.env };
// Prisma 7's CLI downloads a schema engine before every command, even `generate`, which does not
// use it. Without internet access that download fails, so point it at any existing file, for this
// command only: migrate dev/diff/deploy need the real engine and must not inherit this.
if (!env.PRISMA_SCHEMA_ENGINE_BINARY && !schemaEngineDownloaded()) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = path.join(root, 'prisma', 'schema.prisma');
}
execFileSync(process.execPath, [cli, 'generate'], { cwd: root, stdio: 'inherit', env });
