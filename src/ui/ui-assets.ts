import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../common/project-root';

/** The operator page's files, served from memory. */
export interface UiAsset {
  body: string;
  contentType: string;
}

export const UI_PAGE = 'index.html';

const JS = 'text/javascript; charset=utf-8';

/**
 * Every file of the page and its content type; only these are served. The script is browser ES
 * modules (main.js imports the rest), which browsers run only when served as JavaScript.
 */
export const UI_ASSET_FILES: Readonly<Record<string, string>> = {
  [UI_PAGE]: 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'panels.css': 'text/css; charset=utf-8',
  'main.js': JS,
  'api.js': JS,
  'format.js': JS,
  'dom.js': JS,
  'sync-state.js': JS,
  'control.js': JS,
  'budget.js': JS,
  'capacity.js': JS,
  'accuracy.js': JS,
  'learned.js': JS,
  'windows.js': JS,
  'legend.js': JS,
  'heatmap.js': JS,
  'webhooks.js': JS,
};

/** A file served under /ui/: the stylesheet and the scripts, not the page itself. */
export function isUiSubresource(name: string): boolean {
  return name !== UI_PAGE && Object.hasOwn(UI_ASSET_FILES, name);
}

export function uiAssetsDir(fromDir: string = __dirname): string {
  return path.join(findProjectRoot(fromDir), 'src', 'ui', 'assets');
}

/** Reads every asset once; throws naming the missing file so a broken image is obvious. */
export function loadUiAssets(dir: string): Map<string, UiAsset> {
  const assets = new Map<string, UiAsset>();
  for (const [name, contentType] of Object.entries(UI_ASSET_FILES)) {
    const file = path.join(dir, name);
    if (!existsSync(file)) throw new Error(`operator page asset missing: ${file}`);
    assets.set(name, { body: readFileSync(file, 'utf8'), contentType });
  }
  return assets;
}

/**
 * Only the service's own origin: no inline script or style, no CDN, no framing. The page's
 * scripts and stylesheet are separate files for this reason; module scripts and their imports
 * load under script-src 'self'.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
