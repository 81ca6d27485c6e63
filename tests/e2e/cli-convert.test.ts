import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The contract other tools rely on: the built CLI (npm test builds first), run as a whole process.
const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const FIX = join(ROOT, 'fixtures/hl7v2/adt');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'cb-cli-'));
const a01 = readFileSync(join(FIX, 'A01.hl7'), 'latin1');
const a03 = readFileSync(join(FIX, 'A03.hl7'), 'latin1');

describe('the carebridge command (README quick start: `npx carebridge start`)', () => {
  it('runs as `npx carebridge` from a fresh build: the bin is executable and starts with its shebang', () => {
    // npm does not link the root package's own bin, so `npx carebridge` executes this file directly.
    const r = spawnSync('npx', ['--no-install', 'carebridge', 'help'], { encoding: 'utf8', cwd: ROOT });
    expect(r.stderr).not.toMatch(/Permission denied/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: carebridge <command>/);
    // npx resolves the package tree before it runs the bin: seconds on a quiet machine, far more under load.
  }, 180_000);
});

describe('carebridge convert', () => {
  it('prints one Bundle per message as NDJSON and exits 0', () => {
    const r = run(['convert', join(FIX, 'A01.hl7'), join(FIX, 'A03.hl7')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ resourceType: 'Bundle', type: 'message' });
  });

  it('handles concatenated messages and FHS/BHS batches in one file', () => {
    const f = join(tmp, 'batch.hl7');
    writeFileSync(f, `FHS|^~\\&|X\rBHS|^~\\&|X\r${a01}\n${a03}BTS|2\rFTS|1\r`);
    const r = run(['convert', f]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toBe('');
  });

  it('exits 1 with one clear line per failure, still printing the good messages', () => {
    const f = join(tmp, 'mixed.hl7');
    const bad = a01.replace('ADT^A01^ADT_A01|MSG-A01-0001', 'ADT^A20^ADT_A20|MSG-BAD-1');
    const noPid = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|MSG-BAD-2|P|2.5\rEVN|A01\r';
    writeFileSync(f, a01 + bad + noPid + a03);
    const r = run(['convert', f, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    const errs = r.stderr.trim().split('\n');
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatch(
      /mixed\.hl7: message 2 \(line \d+, MSH-10 MSG-BAD-1\): no converter for ADT\^A20: ADT\^A20 \(bed status update\)/,
    );
    expect(errs[1]).toMatch(/message 3 .*MSG-BAD-2.*PID segment is missing/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack traces
    expect(r.stderr).not.toContain('RIVERA'); // no PHI
  });

  it('says so when a file holds no HL7 message (empty, blank, or text without MSH): exit 1', () => {
    const empty = join(tmp, 'empty.hl7');
    const blank = join(tmp, 'blank.hl7');
    const prose = join(tmp, 'prose.txt');
    writeFileSync(empty, '');
    writeFileSync(blank, '\n\n  \n');
    writeFileSync(prose, 'this is not an HL7 message\n');
    const r = run(['convert', empty, blank, prose, join(FIX, 'A01.hl7')]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${empty}: the file is empty`);
    expect(r.stderr).toContain(`${blank}: no HL7 v2 message in it (no MSH segment)`);
    expect(r.stderr).toContain(`${prose}: no HL7 v2 message in it (no MSH segment)`);
    expect(run(['convert', empty]).code).toBe(1);
  });

  it('exits 2 on usage errors', () => {
    expect(run(['convert']).code).toBe(2);
    expect(run(['convert', join(FIX, 'A01.hl7'), '--bogus']).code).toBe(2);
    expect(run(['convert', join(tmp, 'missing.hl7')]).code).toBe(2);
    expect(run(['convert', join(FIX, 'A01.hl7'), '--partner']).code).toBe(2);
    const r = run(['convert', join(FIX, 'A01.hl7'), '--partner', 'nobody']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no hl7v2-adt profile for partner 'nobody'/);
    expect(run(['frobnicate']).code).toBe(2);
  });

  it('applies a partner overlay with --partner and a mappings dir from --config', () => {
    const r = run(['convert', join(FIX, 'A01.hl7'), '--partner', 'example-aco']);
    expect(r.code).toBe(0);
    const bundle = JSON.parse(r.stdout);
    const patient = bundle.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient').resource;
    expect(patient.extension.some((x: { url: string }) => x.url.includes('cp-program'))).toBe(true);
  });
});
