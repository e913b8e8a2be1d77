// The preflight of `npm test` decides from what is missing and where it runs (pure).
const { decidePreflight, installCommands } = require('./test-preflight.cjs');

const APT_BOTH =
  'apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus && apt-get install -y -qq chromium';

describe('decidePreflight', () => {
  it.each([
    ['nothing missing runs', { missing: [], isRoot: false, isDebian: false }, { action: 'run' }],
    [
      'Debian as root installs both, saying so in one line',
      { missing: ['promtool', 'chromium'], isRoot: true, isDebian: true },
      {
        action: 'install',
        commands: [
          ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'prometheus'],
          ['apt-get', 'install', '-y', '-qq', 'chromium'],
        ],
        message: `npm test: installing prometheus and chromium for promtool and chromium (${APT_BOTH})`,
      },
    ],
    [
      'Debian as root installs only what is missing',
      { missing: ['promtool'], isRoot: true, isDebian: true },
      {
        action: 'install',
        commands: [['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'prometheus']],
        message:
          'npm test: installing prometheus for promtool (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)',
      },
    ],
    [
      'Debian, not root: stops with the sudo command',
      { missing: ['chromium'], isRoot: false, isDebian: true },
      {
        action: 'stop',
        message:
          "npm test: chromium (Debian package chromium) missing; sudo sh -c 'apt-get update -qq && apt-get install -y -qq chromium', then run npm test again",
      },
    ],
    [
      'not Debian, even as root: stops naming the tools and the variables',
      { missing: ['promtool', 'chromium'], isRoot: true, isDebian: false },
      {
        action: 'stop',
        message:
          'npm test: promtool (Debian package prometheus) and chromium (Debian package chromium) missing; install them, or point PROMTOOL_PATH / CHROMIUM_PATH at the binaries, then run npm test again',
      },
    ],
    [
      'chosen suites, not root: one warning line, and the run goes on',
      { missing: ['promtool'], isRoot: false, isDebian: true, selective: true },
      {
        action: 'warn',
        message:
          "npm test: promtool (Debian package prometheus) missing; the suites that use it will fail (install: sudo sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus')",
      },
    ],
    [
      'chosen suites, not Debian: one warning line naming the variable',
      { missing: ['chromium'], isRoot: false, isDebian: false, selective: true },
      {
        action: 'warn',
        message:
          'npm test: chromium (Debian package chromium) missing; the suites that use it will fail (install it, or set CHROMIUM_PATH)',
      },
    ],
    [
      'chosen suites on Debian as root: installs as for the whole run',
      { missing: ['promtool'], isRoot: true, isDebian: true, selective: true },
      {
        action: 'install',
        commands: [['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'prometheus']],
        message:
          'npm test: installing prometheus for promtool (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)',
      },
    ],
    [
      'a *_PATH variable naming nothing that runs: stops, even as root on Debian',
      {
        missing: [],
        misconfigured: [{ env: 'PROMTOOL_PATH', value: '/opt/none/promtool' }],
        isRoot: true,
        isDebian: true,
      },
      {
        action: 'stop',
        message: 'npm test: PROMTOOL_PATH=/opt/none/promtool does not run; fix or unset it',
      },
    ],
  ])('%s', (_name, input, expected) => {
    expect(decidePreflight({ selective: false, ...input })).toEqual(expected);
  });

  it('every message is one line', () => {
    for (const isRoot of [true, false]) {
      for (const isDebian of [true, false]) {
        for (const selective of [true, false]) {
          const d = decidePreflight({
            missing: ['promtool', 'chromium'],
            isRoot,
            isDebian,
            selective,
          });
          expect(d.message).not.toContain('\n');
        }
      }
    }
  });
});

describe('installCommands', () => {
  it('keeps apt flags per package (promtool without recommends, chromium with them)', () => {
    expect(installCommands(['chromium', 'promtool'])).toEqual([
      ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'prometheus'],
      ['apt-get', 'install', '-y', '-qq', 'chromium'],
    ]);
  });
});
