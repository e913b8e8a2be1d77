// `npm run bench -- <name> [args…]`: compiles src/ and bench/ into dist-bench/ and runs
// bench/<name>.ts from there. Without a name, lists the benchmarks.
const { execFileSync, spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !available.includes(name)) {
  console.log(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}`);
  process.exit(name ? 1 : 0);
}
execFileSync('node', [path.join(root, 'scripts', 'prisma-generate.cjs')], { stdio: 'inherit' });
execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.bench.json'], {
  cwd: root,
  stdio: 'inherit',
});
const r = spawnSync(
  process.execPath,
  [path.join(root, 'dist-bench', 'bench', `${name}.js`), ...args],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 1);
