import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The image cannot be built on the development machines (no Docker engine), so what can be
// checked by reading is checked here: the build stage copies everything `npm ci` (its `prepare`
// script) and `npm run build` need, and every path it copies exists.
const ROOT = join(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** Sources of the COPY instructions of the build stage (the first FROM up to the next FROM). */
function buildStageCopies(): string[] {
  const stage = dockerfile.split(/^FROM /m)[1] ?? '';
  return [...stage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
}

/** Files the build scripts run with `node <file>` (prepare → build → these). */
function filesBuildScriptsRun(): string[] {
  return [pkg.scripts.build, pkg.scripts.prepare].flatMap((s) => [...(s ?? '').matchAll(/\bnode (\S+)/g)].map((m) => m[1]));
}

describe('Dockerfile', () => {
  it('copies every file the build scripts run, and only paths that exist', () => {
    const copied = buildStageCopies();
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
    const needed = filesBuildScriptsRun();
    expect(needed).toContain('scripts/mark-bin-executable.mjs');
    for (const file of needed) {
      const covered = copied.some((c) => file === c || file.startsWith(`${c.replace(/\/$/, '')}/`));
      expect({ file, copied: covered }).toEqual({ file, copied: true });
    }
  });

  it('copies the web console sources the build compiles (npm run build:console)', () => {
    expect(pkg.scripts.build).toContain('build:console');
    expect(pkg.scripts['build:console']).toMatch(/web\/vite\.config\.ts/);
    expect(buildStageCopies()).toContain('web');
  });

  it('runs the gateway with the 32 MB young-generation semi-space (as the demo script does)', () => {
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"node", "--max-semi-space-size=32", "\/app\/dist\/src\/cli\/main\.js"\]$/m);
    expect(pkg.scripts.demo).toContain('node --max-semi-space-size=32 dist/src/cli/main.js start');
  });
});
