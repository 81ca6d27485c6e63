/**
 * Getting the demo's files in place before `carebridge start` (or `check`) loads config/demo.yaml:
 * its drop folder lives under the data directory (the package folder may be read-only, e.g. under
 * npx), and the demo ACO's member file is dropped into it, as the ACO's job would. Dropping it at
 * every start is harmless: the same file again is a duplicate, archived without changes.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../util/package-root.js';

export const DEMO_MEMBER_FILE = 'example-aco-members.txt';

/** Sets CAREBRIDGE_DEMO_DIR (unless set) and makes the drop folder; returns the demo folder. */
export function prepareDemoFolders(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.CAREBRIDGE_DEMO_DIR || join(resolve(env.CAREBRIDGE_DATA_DIR || 'data'), 'demo');
  env.CAREBRIDGE_DEMO_DIR = dir;
  mkdirSync(join(dir, 'roster-drop'), { recursive: true });
  return dir;
}

/** Moves the demo member file into the drop folder whole (copied under a name the source skips, then renamed). */
export function dropDemoMemberFile(demoDir: string): void {
  const drop = join(demoDir, 'roster-drop');
  const target = join(drop, DEMO_MEMBER_FILE);
  if (existsSync(target)) return;
  const temp = join(drop, `.${DEMO_MEMBER_FILE}.partial`);
  copyFileSync(join(packageRoot(), 'fixtures', 'demo', DEMO_MEMBER_FILE), temp);
  renameSync(temp, target);
}
