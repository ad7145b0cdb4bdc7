/** The package's own folder (views/, migrations/, plugin.json), from src/ under tsx or dist/src/ after a build. */
import fs from 'node:fs';
import path from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'plugin.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`plugin.json not found above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);
