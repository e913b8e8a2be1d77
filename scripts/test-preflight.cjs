// What `npm test` needs besides Node and PostgreSQL: Prometheus' promtool (the metrics contract
// and the alerting rules' tests) and Chromium (the operator page suites). Checked before the
// build; on Debian as root the missing packages are installed (as CI does), otherwise the run
// stops with one line naming what is missing and the command that installs it.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

/** The tools, where the suites look for them, and the Debian package and apt flags of each. */
const TOOLS = [
  {
    name: 'promtool',
    env: 'PROMTOOL_PATH',
    fallback: 'promtool',
    packageName: 'prometheus',
    // Only the binary is needed; the recommends would pull in the node exporter and its service.
    aptFlags: ['--no-install-recommends'],
  },
  {
    name: 'chromium',
    env: 'CHROMIUM_PATH',
    fallback: '/usr/bin/chromium',
    packageName: 'chromium',
    aptFlags: [],
  },
];

/** The apt-get commands that install `missing` (names of TOOLS), one per set of flags. */
function installCommands(missing) {
  const tools = TOOLS.filter((t) => missing.includes(t.name));
  const groups = new Map();
  for (const t of tools) {
    const key = t.aptFlags.join(' ');
    groups.set(key, [...(groups.get(key) ?? []), t.packageName]);
  }
  return [...groups].map(([flags, packages]) => [
    'apt-get',
    'install',
    '-y',
    '-qq',
    ...(flags ? flags.split(' ') : []),
    ...packages,
  ]);
}

/**
 * The decision, pure: `missing` tool names, `misconfigured` ({ env, value } of a *_PATH variable
 * set to something that does not run), whether the process is root, whether apt-get is there
 * (Debian or a derivative), and whether Jest was given arguments (a chosen subset of suites).
 * Returns { action: 'run' } | { action: 'install', commands, message } |
 * { action: 'stop', message } | { action: 'warn', message }.
 */
function decidePreflight({ missing, misconfigured = [], isRoot, isDebian, selective }) {
  if (misconfigured.length > 0) {
    // A variable naming a binary that does not run: installing the package would not help.
    const which = misconfigured.map((m) => `${m.env}=${m.value}`).join(', ');
    return { action: 'stop', message: `npm test: ${which} does not run; fix or unset it` };
  }
  if (missing.length === 0) return { action: 'run' };
  const tools = TOOLS.filter((t) => missing.includes(t.name));
  const what = tools.map((t) => `${t.name} (Debian package ${t.packageName})`).join(' and ');
  const commands = installCommands(missing);
  const apt = ['apt-get update -qq', ...commands.map((c) => c.join(' '))].join(' && ');
  if (isRoot && isDebian) {
    return {
      action: 'install',
      commands,
      message: `npm test: installing ${tools.map((t) => t.packageName).join(' and ')} for ${tools.map((t) => t.name).join(' and ')} (${apt})`,
    };
  }
  if (selective) {
    // A chosen subset may not need them: say so in one line and let Jest run what was asked.
    return {
      action: 'warn',
      message: isDebian
        ? `npm test: ${what} missing; the suites that use it will fail (install: ${isRoot ? '' : 'sudo '}sh -c '${apt}')`
        : `npm test: ${what} missing; the suites that use it will fail (install it, or set ${tools.map((t) => t.env).join(' / ')})`,
    };
  }
  const how = isDebian
    ? `${isRoot ? '' : 'sudo '}sh -c '${apt}'`
    : `install them, or point ${tools.map((t) => t.env).join(' / ')} at the binaries`;
  return { action: 'stop', message: `npm test: ${what} missing; ${how}, then run npm test again` };
}

/** Whether `command` runs (a PATH name or a path). */
function runs(command) {
  if (command.includes('/')) return existsSync(command);
  return !spawnSync(command, ['--version'], { stdio: 'ignore' }).error;
}

/** The tools the suites would not find at their default place (no *_PATH variable set). */
function missingTools(env = process.env) {
  return TOOLS.filter((t) => !env[t.env] && !runs(t.fallback)).map((t) => t.name);
}

/** The *_PATH variables set to something that does not run. */
function misconfiguredTools(env = process.env) {
  return TOOLS.filter((t) => env[t.env] && !runs(env[t.env])).map((t) => ({
    env: t.env,
    value: env[t.env],
  }));
}

/** Checks, installs or stops; returns false when npm test must not go on. */
function preflight(selective) {
  const missing = missingTools();
  const decision = decidePreflight({
    missing,
    misconfigured: misconfiguredTools(),
    isRoot: process.getuid?.() === 0,
    isDebian: existsSync('/etc/debian_version') && runs('apt-get'),
    selective,
  });
  if (decision.action === 'run') return true;
  console.log(decision.message);
  if (decision.action === 'warn') return true;
  if (decision.action === 'stop') return false;
  const steps = [['apt-get', 'update', '-qq'], ...decision.commands];
  for (const [cmd, ...args] of steps) {
    // apt's own output only when it fails: the line above says what happens.
    const r = spawnSync(cmd, args, {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
      console.log(
        `npm test: ${[cmd, ...args].join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`,
      );
      return false;
    }
  }
  const still = missingTools();
  if (still.length > 0) {
    console.log(`npm test: ${still.join(' and ')} still missing after the install`);
    return false;
  }
  return true;
}

module.exports = {
  TOOLS,
  decidePreflight,
  installCommands,
  missingTools,
  misconfiguredTools,
  preflight,
};
