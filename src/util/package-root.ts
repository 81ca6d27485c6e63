import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The folder holding carebridge's package.json, whether running from src/ (tests) or dist/. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'mappings'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the carebridge package root (package.json beside mappings/)');
    dir = up;
  }
  cached = dir;
  return dir;
}
