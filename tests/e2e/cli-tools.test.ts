import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMllpServer, type MllpServer } from '../../src/mllp/index.js';
import { verifyApiKey } from '../../src/config/api-keys.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { cli } from '../helpers/cli.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../helpers/postgres.js';

// Every command, with exit codes and output: in-process through runCli (what the binary runs),
// and through the built binary (npm test builds first) where the process matters.
const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const A01 = join(ROOT, 'fixtures/hl7v2/adt/A01.hl7');
const run = cli;

const tmp = mkdtempSync(join(tmpdir(), 'cb-cli-tools-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('carebridge --version and help', () => {
  it('the binary: --version prints the package version (exit 0); a usage error exits 2', () => {
    const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const u = spawnSync(process.execPath, [CLI, 'send', '--port'], { encoding: 'utf8' });
    expect(u.status).toBe(2);
    expect(u.stderr).toBe(
      'carebridge: --port needs a value\nusage: carebridge send FILE... [--host H] --port N [--tls --ca F --cert F --key F]\n',
    );
  });

  it("help lists every command; help CMD prints that command's help", async () => {
    const r = await run(['help']);
    expect(r.code).toBe(0);
    for (const c of ['start', 'check', 'convert', 'test', 'send', 'import-members', 'hash-key']) expect(r.stdout).toContain(`  ${c} `);
    for (const c of COMMANDS) {
      const h = await run(['help', c.name]);
      expect(h).toEqual({ code: 0, stdout: `${c.help}\n`, stderr: '' });
      expect(c.help).toMatch(new RegExp(`^usage: carebridge ${c.name}`));
    }
    expect((await run(['send', '--help'])).stdout).toBe((await run(['help', 'send'])).stdout);
  });

  it('a usage error prints the problem and the one relevant usage line, exit 2', async () => {
    const r = await run(['send', 'x.hl7', '--prot', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'carebridge: unknown option --prot\nusage: carebridge send FILE... [--host H] --port N [--tls --ca F --cert F --key F]\n',
    );
    const u = await run(['frobnicate']);
    expect(u.code).toBe(2);
    expect(u.stderr.split('\n').filter(Boolean)).toEqual([
      "carebridge: unknown command 'frobnicate'",
      expect.stringMatching(/^usage: carebridge <command>/),
    ]);
    expect((await run(['help', 'nope'])).code).toBe(2);
  });
});

describe('carebridge hash-key', () => {
  it('prints a hash the config accepts for the key on stdin', async () => {
    const r = await run(['hash-key'], { input: 'a-long-enough-api-key-42\n' });
    expect(r.code).toBe(0);
    expect(verifyApiKey('a-long-enough-api-key-42', r.stdout.trim())).toBe(true);
  });

  it('refuses a short key (exit 2) and a key given as an argument (usage, exit 2)', async () => {
    expect(await run(['hash-key'], { input: 'short' })).toMatchObject({ code: 2, stdout: '' });
    const r = await run(['hash-key', 'my-secret-key-on-the-command-line']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/read from stdin/);
  });
});

describe('carebridge send', () => {
  let server: MllpServer;
  let port = 0;
  beforeAll(async () => {
    // Answers AA, except AE for control ids starting with BAD.
    server = createMllpServer({
      host: '127.0.0.1',
      port: 0,
      handler: async (message) => {
        const text = message.toString('latin1');
        const controlId = text.split('\r')[0].split('|')[9];
        const code = controlId.startsWith('BAD') ? 'AE' : 'AA';
        const segmentsEndInCr = !text.includes('\n');
        return Buffer.from(
          `MSH|^~\\&|RCV|RCV|SND|SND|20240101||ACK|A${controlId}|P|2.5\rMSA|${code}|${controlId}|${code === 'AA' ? `ok cr=${segmentsEndInCr}` : 'PID-3 is missing'}\r`,
        );
      },
    });
    port = (await server.listen()).port;
  });
  afterAll(() => server.close());

  it('prints the ACK code and text of each message, exit 0 when all were accepted', async () => {
    const r = await run(['send', A01, '--port', String(port)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/A01\.hl7: message 1 \(MSH-10 MSG-A01-0001\): AA ok cr=true\n/);
  });

  it('exit 1 when any message is NACKed; every message is still sent', async () => {
    const a01 = readFileSync(A01, 'latin1');
    const f = join(tmp, 'two.hl7');
    writeFileSync(f, a01.replace('MSG-A01-0001', 'BAD-1') + '\n' + a01.replace(/\r/g, '\n'));
    const r = await run(['send', f, '--port', String(port)]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/message 1 \(MSH-10 BAD-1\): AE PID-3 is missing$/);
    // A file with LF segment ends is sent with CR (what MLLP peers expect).
    expect(lines[1]).toMatch(/message 2 \(MSH-10 MSG-A01-0001\): AA ok cr=true$/);
  });

  it('exit 1 with a clear line when nothing listens; exit 2 without --port', async () => {
    const closed = createMllpServer({ host: '127.0.0.1', port: 0, handler: async () => Buffer.alloc(0) });
    const free = (await closed.listen()).port;
    await closed.close();
    const r = await run(['send', A01, '--port', String(free)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/message 1 \(MSH-10 MSG-A01-0001\): no ACK: /);
    expect((await run(['send', A01])).code).toBe(2);
    expect((await run(['send', A01, '--port', '1', '--ca', 'x'])).stderr).toMatch(/need --tls/);
  });
});

/** A user's own folder: one ACO and one CP, their layout only (the base profiles come from the package). */
function userSetup(name: string, layoutExtra = ''): { dir: string; config: string } {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'mappings/partners/demo-aco'), { recursive: true });
  mkdirSync(join(dir, 'drop'), { recursive: true });
  const layout = readFileSync(join(ROOT, 'mappings/partners/example-aco/member-delimited.yaml'), 'utf8')
    .replace('id: example-aco', 'id: demo-aco')
    .replace('aco: { value: example-aco }', 'aco: { value: demo-aco }')
    .replace(/partner: example-cp/g, 'partner: demo-cp');
  writeFileSync(join(dir, 'mappings/partners/demo-aco/member-delimited.yaml'), layout + layoutExtra);
  cpSync(join(ROOT, 'mappings/partners/example-aco/hl7v2-adt.yaml'), join(dir, 'mappings/partners/demo-aco/hl7v2-adt.yaml'));
  writeFileSync(
    join(dir, 'mappings/partners/demo-aco/hl7v2-adt.yaml'),
    readFileSync(join(dir, 'mappings/partners/demo-aco/hl7v2-adt.yaml'), 'utf8')
      .replace(/^id: example-aco/m, 'id: demo-aco')
      .replace(/^namespace: example-aco/m, 'namespace: demo-aco'),
  );
  const config = join(dir, 'carebridge.yaml');
  writeFileSync(
    config,
    `dataDir: ./data
mappings: { dir: ./mappings }
partners:
  demo-aco: { name: Demo ACO, kind: aco, profile: demo-aco, senders: ["EPICADT^MGH"] }
  demo-cp: { name: Demo CP, kind: cp }
sources:
  - { id: roster-drop, type: directory, partner: demo-aco, path: ./drop, format: member-csv }
`,
  );
  return { dir, config };
}

const HEADER =
  'MEMBER_ID|LAST_NAME|FIRST_NAME|MIDDLE_NAME|DOB|GENDER|ADDRESS_1|ADDRESS_2|CITY|STATE|ZIP|PHONE|CP_ID|PCP_NPI|ASSIGNMENT_START|ASSIGNMENT_END|STATUS|ACO_MEMBER_ID|MRN|SSN|BH_CONSENT|SUD_CONSENT';
const row = (id: string, family: string, cp: string) =>
  `${id}|${family}|Testy||01/02/1980|F|1 Main St||Springfield|MA|01101|4135550100|${cp}||01/01/2024|||A-${id}|MRN-${id}||Y|`;

describe('carebridge check', () => {
  it('exit 0 and a summary for a complete setup whose mappings folder holds only its partners', async () => {
    const { config } = userSetup('check-ok');
    const r = await run(['check', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/carebridge\.yaml: OK \(2 partners, 1 sources/);
  });

  it('exit 2 with one line per problem naming the file and the key; `start` refuses the same config', async () => {
    const { config } = userSetup('check-bad', 'partnerCodes:\n  cp: { CP9: nobody }\n');
    writeFileSync(
      config,
      readFileSync(config, 'utf8') +
        `  - { id: fw-drop, type: directory, partner: demo-cp, path: ./missing, format: member-fixed-width }
destinations:
  - { id: cp-mllp, type: mllp, host: 127.0.0.1, port: 9 }
`,
    );
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(
        'demo-cp: { name: Demo CP, kind: cp }',
        'demo-cp: { name: Demo CP, kind: cp, destinations: { members: cp-mllp } }',
      ),
    );
    const r = await run(['check', '--config', config]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/demo-aco\/member-delimited\.yaml: partnerCodes\.cp\.CP9: 'nobody' is not a configured partner/),
      expect.stringMatching(/carebridge\.yaml: sources\[1\]\.path: .*missing does not exist$/),
      expect.stringMatching(/partners\/demo-cp\/member-fixed-width\.yaml: cannot be read$/),
      expect.stringMatching(
        /carebridge\.yaml: partners\.demo-cp\.destinations\.members: destination 'cp-mllp' \(mllp\) cannot carry roster notices/,
      ),
      '4 problems',
    ]);
    const s = await run(['start', '--config', config]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/member-fixed-width\.yaml: cannot be read/);
  });

  it('exit 2 for a config that does not validate', async () => {
    const f = join(tmp, 'broken.yaml');
    writeFileSync(f, 'partners:\n  x: { name: X, kind: nope }\n');
    const r = await run(['check', '--config', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml: partners\.x\.kind: must be one of aco, cp, hospital, vendor/);
  });
});

describe('carebridge import-members', () => {
  it('--dry-run prints added members and row errors with line numbers and applies nothing; then the import applies', async () => {
    const { dir, config } = userSetup('import', "partnerCodes:\n  cp: { 'CP-0042': demo-cp }\n");
    const file = join(dir, 'members.txt');
    writeFileSync(
      file,
      [
        HEADER,
        row('M001', 'Alpha', 'CP-0042'),
        row('M002', 'Beta', 'CP-9999'),
        row('M003', 'Gamma', 'demo-cp'),
        row('M004', 'Delta', ''),
      ].join('\n') + '\n',
    );
    const dry = await run(['import-members', file, '--partner', 'demo-aco', '--config', config, '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^dry run \(nothing applied\): 4 rows, 3 added, 0 changed, 0 terminated, 1 row errors/);
    expect(dry.stdout).toMatch(/added +M001 \(aco: null → "demo-aco", cp: null → "demo-cp"\)/);
    expect(dry.stdout).toMatch(/line 3: error: CP 'CP-9999' maps to no configured partner/);
    // Nothing was applied: the same dry run says the same.
    expect((await run(['import-members', file, '--partner', 'demo-aco', '--config', config, '--dry-run'])).stdout).toBe(dry.stdout);

    const real = await run(['import-members', file, '--partner', 'demo-aco', '--config', config]);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/^applied: 4 rows, 3 added/);
    // Applied: the same file again is a duplicate, and a changed file shows only its changes.
    expect((await run(['import-members', file, '--partner', 'demo-aco', '--config', config])).stdout).toMatch(/^duplicate: /);
    writeFileSync(file, [HEADER, row('M001', 'Alpha', 'CP-0042'), row('M003', 'Gamma', 'demo-cp')].join('\n') + '\n');
    const after = await run(['import-members', file, '--partner', 'demo-aco', '--config', config, '--dry-run']);
    expect(after.stdout).toMatch(/^dry run \(nothing applied\): 2 rows, 0 added, 0 changed, 1 terminated, 0 row errors/);
    expect(after.stdout).toMatch(/terminated +M004/);
  });

  describe.skipIf(findPostgresBin() === null)('on a Postgres store', () => {
    let pgServer: PostgresServer;
    beforeAll(async () => {
      pgServer = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await pgServer?.stop();
    });

    it('--dry-run works on a scratch schema: the diff, nothing applied, no schema left behind', async () => {
      const url = await pgServer.createDatabase();
      const { dir, config } = userSetup('import-postgres', "partnerCodes:\n  cp: { 'CP-0042': demo-cp }\n");
      writeFileSync(config, readFileSync(config, 'utf8') + `store: { url: "${url}" }\n`);
      const file = join(dir, 'members.txt');
      writeFileSync(
        file,
        [HEADER, row('M001', 'Alpha', 'CP-0042'), row('M002', 'Beta', 'CP-9999'), row('M003', 'Gamma', 'demo-cp')].join('\n') + '\n',
      );
      const dry = await run(['import-members', file, '--partner', 'demo-aco', '--config', config, '--dry-run']);
      expect(dry.stderr).toBe('');
      expect(dry.stdout).toMatch(/^dry run \(nothing applied\): 3 rows, 2 added, 0 changed, 0 terminated, 1 row errors/);
      expect(dry.stdout).toMatch(/line 3: error: CP 'CP-9999' maps to no configured partner/);

      expect((await run(['import-members', file, '--partner', 'demo-aco', '--config', config])).stdout).toMatch(
        /^applied: 3 rows, 2 added/,
      );
      writeFileSync(file, [HEADER, row('M001', 'Alpha', 'CP-0042')].join('\n') + '\n');
      const after = await run(['import-members', file, '--partner', 'demo-aco', '--config', config, '--dry-run']);
      expect(after.stdout).toMatch(/^dry run \(nothing applied\): 1 rows, 0 added, 0 changed, 1 terminated, 0 row errors/);
      expect(after.stdout).toMatch(/terminated +M003/);
      // The same dry run again: the first one applied nothing.
      expect((await run(['import-members', file, '--partner', 'demo-aco', '--config', config, '--dry-run'])).stdout).toBe(after.stdout);

      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const schemas = await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'carebridge_dry_run_%'");
        expect(schemas.rows).toEqual([]);
        const imports = await client.query('SELECT count(*)::int AS n FROM roster_imports');
        expect(imports.rows[0].n).toBe(1);
      } finally {
        await client.end();
      }
    }, 120_000);
  });

  it('usage errors exit 2; an unreadable file exits 1', async () => {
    const { dir, config } = userSetup('import-usage');
    expect((await run(['import-members', '--partner', 'demo-aco'])).code).toBe(2);
    expect((await run(['import-members', join(dir, 'carebridge.yaml')])).stderr).toMatch(/--partner is required/);
    expect((await run(['import-members', config, '--partner', 'demo-aco', '--format', 'pdf'])).stderr).toMatch(/--format must be one of/);
    expect(await run(['import-members', config, '--partner', 'nobody', '--config', config, '--dry-run'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown partner 'nobody'/),
    });
    const garbage = join(dir, 'garbage.txt');
    writeFileSync(garbage, 'NOT|A|ROSTER\n1|2|3\n');
    const r = await run(['import-members', garbage, '--partner', 'demo-aco', '--config', config, '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/file error: line 1: no column 'MEMBER_ID'/);
  });
});
