import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findProjectRoot } from '../common/project-root';
import { loadUiAssets, UI_ASSET_FILES, uiAssetsDir } from './ui-assets';

describe('operator page assets', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'ui-assets-'));
    writeFileSync(path.join(root, 'package.json'), '{}');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it.each([['src/ui'], ['dist/ui'], ['.']])(
    'finds the project root from %s (Jest runs src/, production runs dist/)',
    (from) => {
      const dir = path.join(root, from);
      mkdirSync(dir, { recursive: true });
      expect(findProjectRoot(dir)).toBe(root);
      expect(uiAssetsDir(dir)).toBe(path.join(root, 'src', 'ui', 'assets'));
    },
  );

  it('names the missing file when an asset was left out', () => {
    const dir = path.join(root, 'src', 'ui', 'assets');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    expect(() => loadUiAssets(dir)).toThrow(`operator page asset missing: ${dir}/app.js`);
  });

  it('loads every asset of this project with its content type', () => {
    const assets = loadUiAssets(uiAssetsDir(__dirname));
    expect([...assets.keys()].sort()).toEqual(Object.keys(UI_ASSET_FILES).sort());
    expect(assets.get('index.html')?.body).toContain('<script src="/ui/app.js" defer></script>');
    expect(assets.get('app.js')?.contentType).toBe('text/javascript; charset=utf-8');
  });
});
