import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { loadMemberLayout, readMemberFile, type MemberFormat, type MemberItem } from '../ingest/member-partners.js';
import { splitMessages } from '../hl7v2/batch.js';
import { defaultMappingsDir, loadProfile, ProfileError } from '../mapping/profile-loader.js';
import { parseArgs, UsageError } from './args.js';
import { loadConfigForCli } from './config-for-cli.js';
import { convertForOutput } from './convert-one.js';
import type { CliIo } from './convert.js';
import { jsonDiff } from './json-diff.js';

/**
 * Golden mapping tests, one folder per partner (`mappings/partners/<id>/tests/`):
 * - `NAME.hl7` (one message, or several) with `NAME.fhir.json`: the Bundle (or list of Bundles)
 *   the partner's profile must produce;
 * - a member file with `NAME.EXT.rows.json`: the rows its layout must read. The layout follows
 *   the extension: .x12/.834 → x12-834, .xlsx → xlsx, .fixed/.dat → fixed-width, else delimited.
 */
const MEMBER_FORMAT_BY_EXT: Record<string, MemberFormat> = {
  '.x12': 'x12-834',
  '.834': 'x12-834',
  '.xlsx': 'xlsx',
  '.fixed': 'fixed-width',
  '.dat': 'fixed-width',
};
const memberFormatOf = (file: string): MemberFormat => MEMBER_FORMAT_BY_EXT[extname(file).toLowerCase()] ?? 'delimited';

interface Outcome {
  name: string;
  passed: boolean;
  lines: string[];
}

const pretty = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

function readExpected(file: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (!existsSync(file)) return { ok: false, problem: `no expectation ${basename(file)} (run with --update to write it)` };
  try {
    return { ok: true, value: JSON.parse(readFileSync(file, 'utf8')) };
  } catch {
    return { ok: false, problem: `${basename(file)} is not valid JSON` };
  }
}

function compare(name: string, expectedFile: string, actual: unknown, update: boolean): Outcome {
  if (update) {
    const before = existsSync(expectedFile) ? readFileSync(expectedFile, 'utf8') : undefined;
    const text = pretty(actual);
    if (before !== text) writeFileSync(expectedFile, text);
    return { name, passed: true, lines: before === text ? [] : [`  updated ${basename(expectedFile)}`] };
  }
  const expected = readExpected(expectedFile);
  if (!expected.ok) return { name, passed: false, lines: [`  ${expected.problem}`] };
  const diff = jsonDiff(expected.value, actual);
  return { name, passed: diff.length === 0, lines: diff };
}

function hl7Test(file: string, partner: string, mappingsDir: string, update: boolean, label: string): Outcome {
  const profile = loadProfile({ partner, mappingsDir });
  const bundles: unknown[] = [];
  const problems: string[] = [];
  for (const item of splitMessages(readFileSync(file)).items) {
    if (item.kind === 'junk') {
      problems.push(`  line ${item.line}: ${item.reason}`);
      continue;
    }
    const r = convertForOutput(item.bytes, profile, { file: basename(file), index: item.index, line: item.line }, true);
    if (r.json === undefined) problems.push(`  ${r.stderr.trim()}`);
    else bundles.push(JSON.parse(r.json));
  }
  if (problems.length) return { name: label, passed: false, lines: problems };
  const expectedFile = file.replace(/\.hl7$/i, '.fhir.json');
  return compare(label, expectedFile, bundles.length === 1 ? bundles[0] : bundles, update);
}

/** Rows as the roster receives them, without the raw source fields (they repeat the file). */
function rowView(item: MemberItem): unknown {
  if (item.kind !== 'record') return item;
  const { raw: _raw, ...record } = item.record;
  return { kind: 'record', record };
}

async function memberTest(file: string, partner: string, mappingsDir: string, update: boolean, label: string): Promise<Outcome> {
  const layout = loadMemberLayout({ partner, format: memberFormatOf(file), mappingsDir });
  const rows: unknown[] = [];
  try {
    for await (const item of readMemberFile(createReadStream(file), layout)) rows.push(rowView(item));
  } catch (e) {
    return { name: label, passed: false, lines: [`  the file could not be read: ${(e as Error).message}`] };
  }
  return compare(label, `${file}.rows.json`, rows, update);
}

function partnersWithTests(mappingsDir: string): string[] {
  const root = join(mappingsDir, 'partners');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((id) => existsSync(join(root, id, 'tests')) && statSync(join(root, id, 'tests')).isDirectory())
    .sort();
}

/** `carebridge test`: runs every partner's golden tests (or one partner's), prints diffs and the tally. */
export async function testCommand(argv: string[], io: CliIo): Promise<number> {
  const { positional, options } = parseArgs(argv, { partner: 'value', config: 'value', update: 'flag' });
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const mappingsDir =
    (typeof options.config === 'string' ? loadConfigForCli(options.config).mappingsDir : undefined) ?? defaultMappingsDir();
  const update = Boolean(options.update);
  let partners = partnersWithTests(mappingsDir);
  if (typeof options.partner === 'string') {
    if (!existsSync(join(mappingsDir, 'partners', options.partner)))
      throw new UsageError(`no partner '${options.partner}' in ${join(mappingsDir, 'partners')}`);
    partners = partners.filter((p) => p === options.partner);
  }
  let passed = 0;
  let failed = 0;
  for (const partner of partners) {
    const dir = join(mappingsDir, 'partners', partner, 'tests');
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name);
      const shown = relative(process.cwd(), file);
      const label = shown.startsWith('..') ? file : shown;
      if (name.endsWith('.json') || !statSync(file).isFile()) continue;
      let outcome: Outcome;
      try {
        outcome = /\.hl7$/i.test(name)
          ? hl7Test(file, partner, mappingsDir, update, label)
          : await memberTest(file, partner, mappingsDir, update, label);
      } catch (e) {
        if (!(e instanceof ProfileError)) throw e;
        outcome = { name: label, passed: false, lines: [`  ${e.message}`] };
      }
      if (outcome.passed) passed++;
      else failed++;
      io.stdout.write(`${outcome.passed ? 'ok  ' : 'FAIL'} ${outcome.name}\n${outcome.lines.map((l) => `${l}\n`).join('')}`);
    }
  }
  io.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}
