// Generates the Prisma client offline. Runs on `npm ci` (postinstall) and before every build.
// A production-only install (`npm ci --omit=dev`) has no Prisma CLI and ships a prebuilt dist/,
// so a missing CLI is not an error there.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

let cli;
try {
  cli = require.resolve('prisma/build/index.js', { paths: [path.join(__dirname, '..')] });
} catch {
  console.log('prisma CLI not installed (production install?): skipping client generation');
  process.exit(0);
}
execFileSync(process.execPath, [cli, 'generate'], {
  cwd: path.join(__dirname, '..'),
  stdio: 'inherit',
});
