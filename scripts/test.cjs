// `npm test`: builds dist/ (some suites run the built service as a real process), then runs every
// Jest suite against the PostgreSQL named by TEST_DATABASE_ADMIN_URL (default: local, user postgres).
// Extra arguments go to Jest, e.g. `npm test -- src/config`. The service's own logs are silent
// unless TEST_LOGS=1 (then LOG_LEVEL applies as usual). First it checks for promtool and chromium
// (scripts/test-preflight.cjs): installs them on Debian as root, else stops naming the command.
const { execFileSync, spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { preflight } = require('./test-preflight.cjs');

const root = path.join(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

if (!preflight(process.argv.length > 2)) process.exit(1);

execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
const reportDir = mkdtempSync(path.join(os.tmpdir(), 'jest-report-'));
const report = path.join(reportDir, 'report.json');
// One suite at a time: several suites run real processes with timing-sensitive behaviour (lease
// failover, rate windows), and two cores shared between suites made them flaky.
// --forceExit: a failing test can leave a server or a process behind (its cleanup never ran);
// the run must still end with its verdict instead of hanging the CI until its time limit.
const jestArgs = [
  '--maxWorkers=1',
  '--forceExit',
  '--json',
  `--outputFile=${report}`,
  ...process.argv.slice(2),
];
const result = spawnSync(bin('jest'), jestArgs, {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_ENV: 'test',
    // Fault-injection suites log hundreds of expected errors; among PASS lines they read as failures.
    LOG_LEVEL: process.env.TEST_LOGS === '1' ? process.env.LOG_LEVEL : 'silent',
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
// One plain closing line that any CI can read, whatever Jest printed above it.
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`,
  );
} catch {
  console.log('\ntests: no Jest report was written (see the output above)');
}
rmSync(reportDir, { recursive: true, force: true });
process.exit(result.status ?? 1);
