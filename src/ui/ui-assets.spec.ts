import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findProjectRoot } from '../common/project-root';
import { isUiSubresource, loadUiAssets, UI_ASSET_FILES, uiAssetsDir } from './ui-assets';

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
    expect(() => loadUiAssets(dir)).toThrow(`operator page asset missing: ${dir}/app.css`);
  });

  it('loads every asset of this project with its content type', () => {
    const assets = loadUiAssets(uiAssetsDir(__dirname));
    expect([...assets.keys()].sort()).toEqual(Object.keys(UI_ASSET_FILES).sort());
    expect(assets.get('index.html')?.body).toContain(
      '<script type="module" src="/ui/main.js"></script>',
    );
    expect(assets.get('main.js')?.contentType).toBe('text/javascript; charset=utf-8');
  });

  it('serves every file of the assets folder and nothing else', () => {
    expect(readdirSync(uiAssetsDir(__dirname)).sort()).toEqual(Object.keys(UI_ASSET_FILES).sort());
  });

  it('lists every module some script imports, so the browser never meets a 404', () => {
    const assets = loadUiAssets(uiAssetsDir(__dirname));
    const imported = new Set<string>();
    for (const [name, asset] of assets) {
      if (!name.endsWith('.js')) continue;
      for (const m of asset.body.matchAll(/^import [^;]+ from '\.\/([\w-]+\.js)';$/gm)) {
        imported.add(m[1]);
      }
    }
    const scripts = Object.keys(UI_ASSET_FILES).filter((n) => n.endsWith('.js') && n !== 'main.js');
    expect([...imported].sort()).toEqual(scripts.sort());
  });

  it.each([
    ['main.js', true],
    ['app.css', true],
    ['index.html', false],
    ['app.js', false],
    ['../package.json', false],
    ['constructor', false],
  ])('serves %s under /ui/: %s', (name, served) => {
    expect(isUiSubresource(name)).toBe(served);
  });
});
