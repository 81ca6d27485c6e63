/**
 * Issue 11.3 and 11.10: `carebridge convert` never loses a message silently and says what is wrong
 * with its input. The built CLI as a whole process (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const FIX = join(ROOT, 'fixtures/hl7v2/adt');
const VT = '\x0b';
const FS = '\x1c';

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 30 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'cb-cli-input-'));
const a01 = readFileSync(join(FIX, 'A01.hl7'), 'latin1');
const a03 = readFileSync(join(FIX, 'A03.hl7'), 'latin1');

describe('carebridge convert: a start byte inside a message (issue 11.3)', () => {
  // A start byte, message A cut off inside PID, then a start byte and a complete message B.
  const cutInPid = a01.slice(0, a01.indexOf('PID|') + 20);
  const file = join(tmp, 'cut-off.hl7');
  writeFileSync(file, Buffer.from(`${VT}${cutInPid}${VT}${a03}${FS}\r`, 'latin1'));

  it('converts B, reports A as broken and exits 1', () => {
    const r = run(['convert', file]);
    expect(r.code).toBe(1);
    const bundles = r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { entry: { resource: { resourceType: string; eventCoding?: { code: string } } }[] });
    expect(bundles).toHaveLength(1);
    expect(bundles[0].entry[0].resource.eventCoding?.code).toBe('A03');
    expect(r.stderr).toMatch(
      /cut-off\.hl7: message 1 \(line 1, MSH-10 MSG-A01-0001\) was cut off: a start byte \(0x0B\) at line 3 begins another message before it ended/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('the same on the worker-thread path (large inputs)', () => {
    const big = join(tmp, 'cut-off-big.hl7');
    // Over the 4 MB parallel threshold: many good messages, the cut-off pair in the middle.
    const good = `${VT}${a03}${FS}\r`;
    const n = Math.ceil((4.5 * 1024 * 1024) / good.length);
    writeFileSync(big, Buffer.from(good.repeat(n) + `${VT}${cutInPid}${VT}${a03}${FS}\r` + good.repeat(10), 'latin1'));
    const r = run(['convert', big]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(n + 11);
    expect(r.stderr).toMatch(new RegExp(`message ${n + 1} \\(line \\d+, MSH-10 MSG-A01-0001\\) was cut off`));
  });
});

describe('carebridge convert: input that is not a file (issue 11.10)', () => {
  it('says a directory is a directory', () => {
    const dir = join(tmp, 'a-folder');
    mkdirSync(dir);
    const r = run(['convert', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read .*a-folder: it is a directory/);
    expect(r.stderr).not.toMatch(/no such file/);
  });

  it('still says no such file for a missing one', () => {
    const r = run(['convert', join(tmp, 'missing.hl7')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.hl7: no such file/);
  });
});
