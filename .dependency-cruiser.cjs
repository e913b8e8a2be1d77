/**
 * The module graph follows the data flow, and no import runs back up (issue 14). Layers, bottom
 * first: config/common → core (database, partner budget) → partner → inventory (due list, sync,
 * store, read) → changes (the change feed and webhooks for consumers) → cluster (adapters for inventory's leadership and cache ports) → ops (health,
 * metrics, shutdown) → ui → the app's wiring (app.module, app.factory, main). A file may import
 * its own layer and the layers below it, never one above. `npm run lint:deps` checks it; CI runs it.
 */
const LAYERS = [
  ['config', 'common', 'generated'],
  ['core'],
  ['partner'],
  ['inventory'],
  ['changes'],
  ['cluster'],
  ['ops'],
  ['ui'],
];

const folders = (names) => `^src/(${names.join('|')})/`;

const forbidden = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-import-up-from-${layer[0]}`,
  comment: `${layer.join('/')} must not import a layer above it (${LAYERS.slice(i + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: folders(layer) },
  to: {
    path: [folders(LAYERS.slice(i + 1).flat()), '^src/(app\\.module|app\\.factory|main)\\.ts$'],
  },
}));

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'no-import-of-the-app-wiring',
      comment: 'Only the entry points import the app module and factory',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(app\\.module|app\\.factory|main)\\.ts$' },
      to: { path: '^src/(app\\.module|app\\.factory|main)\\.ts$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-test-support-in-src',
      comment: 'Test helpers live in test/, never shipped in src/',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^src/generated/', '\\.spec\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
