import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder holding package.json above `fromDir`. Files that tsc does not copy (migrations, the
 * operator page's assets) are found from there, whether the code runs from src/ under Jest, from
 * dist/ or from dist-bench/.
 */
export function findProjectRoot(fromDir: string = __dirname): string {
  let dir = path.resolve(fromDir);
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json found above ${fromDir}`);
    dir = parent;
  }
}
