// `npm test`: builds dist/ (some suites run the built service as a real process), then runs every
// Jest suite against the PostgreSQL named by TEST_DATABASE_ADMIN_URL (default: local, user postgres).
// Extra arguments go to Jest, e.g. `npm test -- src/config`.
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
const result = spawnSync(bin('jest'), ['--maxWorkers=2', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_ENV: 'test',
    // Prisma 7's client and PGlite load parts of themselves with import(); Jest needs this flag for it.
    NODE_OPTIONS: [
      process.env.NODE_OPTIONS,
      '--experimental-vm-modules',
      '--disable-warning=ExperimentalWarning',
    ]
      .filter(Boolean)
      .join(' '),
  },
});
process.exit(result.status ?? 1);
