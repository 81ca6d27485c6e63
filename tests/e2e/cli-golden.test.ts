import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

// `carebridge test`: the partners' golden mapping tests. The shipped example partner's run here,
// so `npm test` fails when a mapping change alters what the example produces.
const ROOT = join(import.meta.dirname, '../..');
const run = cli;

const tmp = mkdtempSync(join(tmpdir(), 'cb-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('carebridge test', () => {
  it('the shipped example partner passes its golden tests', async () => {
    const r = await run(['test', '--partner', 'example-aco']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {3}mappings\/partners\/example-aco\/tests\/A01\.hl7$/m);
    expect(r.stdout).toMatch(/^ok {3}mappings\/partners\/example-aco\/tests\/members\.txt$/m);
    expect(r.stdout).toMatch(/\n3 passed, 0 failed\n$/);
  });

  it('a changed mapping fails with a readable diff of the FHIR, exit 1; --update rewrites the expectation', async () => {
    // A user's folder: only their partner (the base profile comes from the package).
    const mappings = join(tmp, 'mappings');
    cpSync(join(ROOT, 'mappings/partners/example-aco'), join(mappings, 'partners/example-aco'), { recursive: true });
    const config = join(tmp, 'carebridge.yaml');
    writeFileSync(config, 'mappings: { dir: ./mappings }\n');
    const profile = join(mappings, 'partners/example-aco/hl7v2-adt.yaml');
    writeFileSync(profile, readFileSync(profile, 'utf8').replace('timeZone: America/New_York', 'timeZone: America/Chicago'));
    const rows = join(mappings, 'partners/example-aco/tests/members.txt.rows.json');
    writeFileSync(rows, readFileSync(rows, 'utf8').replace('"DORCHESTER"', '"ROXBURY"'));

    const r = await run(['test', '--config', config]);
    expect(r.code).toBe(1);
    // Timestamps without an offset now read as Chicago time: each changed element, expected then got.
    expect(r.stdout).toMatch(
      /FAIL .*A01\.hl7\n {2}entry\[[A-Za-z]+\/[0-9a-f-]+\]\.resource\.[a-zA-Z.[\]0-9]+:\n {4}- "2024-05-01T08:05:00-04:00"\n {4}\+ "2024-05-01T08:05:00-05:00"\n/,
    );
    expect(r.stdout).toMatch(/FAIL .*members\.txt\n {2}\[0\]\.record\.address\.city:\n {4}- "ROXBURY"\n {4}\+ "DORCHESTER"\n/);
    expect(r.stdout).toMatch(/\n0 passed, 3 failed\n$/);

    const u = await run(['test', '--config', config, '--update']);
    expect(u.code).toBe(0);
    expect(u.stdout).toMatch(/updated A01\.fhir\.json/);
    expect((await run(['test', '--config', config])).stdout).toMatch(/\n3 passed, 0 failed\n$/);
  });

  it('an unknown partner is a usage error (exit 2)', async () => {
    const r = await run(['test', '--partner', 'nobody']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no partner 'nobody'/);
  });
});
