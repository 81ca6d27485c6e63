import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// One inbox is the only writer of inbound messages: src/ingest/inbound.ts is the one file that calls
// the store's acceptInbound (eslint.config.js). These cases prove the rule fires, and a scan of the
// sources finds no other call (the store implements it; tests write fixtures directly).
const ROOT = join(import.meta.dirname, '../..');
const WRITER = 'src/ingest/inbound.ts';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

async function writerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

describe('the inbox is the only writer of inbound messages (npm run lint)', () => {
  it('calling acceptInbound anywhere else is an error', async () => {
    const call =
      'export async function f(store: { acceptInbound(x: unknown[]): Promise<unknown[]> }) {\n  return store.acceptInbound([]);\n}\n';
    expect(await writerErrors('src/ingest/new-source.ts', call)).toEqual([expect.stringContaining('written by the inbox only')]);
    expect(await writerErrors('src/careplan/jobs/x.ts', call)).toHaveLength(1);
    expect(await writerErrors('adapters/new-format/x.ts', call)).toHaveLength(1);
  });

  it('so is taking the method to call it later', async () => {
    const code =
      'export function f(store: { acceptInbound(x: unknown[]): Promise<unknown[]> }) {\n  const { acceptInbound } = store;\n  return acceptInbound;\n}\n';
    expect(await writerErrors('src/routing/x.ts', code)).toHaveLength(1);
  });

  it('the inbox writer may call it', async () => {
    const call =
      'export async function f(store: { acceptInbound(x: unknown[]): Promise<unknown[]> }) {\n  return store.acceptInbound([]);\n}\n';
    expect(await writerErrors(WRITER, call)).toEqual([]);
  });

  it('no source file but the writer and the store implementations calls it', () => {
    const callers = [...sourceFiles('src'), ...sourceFiles('adapters')].filter(
      (f) => !f.startsWith('src/store/') && /\.acceptInbound\b/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(callers).toEqual([WRITER]);
  });
});
