// Generates web/src/v2-fields.json, the field names the console shows on hover over a raw HL7 v2
// segment, from the HL7 v2-to-FHIR IG's segment maps (../shared/corpus/HL7-v2-to-fhir-IG/mappings/
// segments, CSV, two header rows). Run it again when the IG is updated:
//   node scripts/generate-v2-field-names.mjs [IG mappings dir]
// Output: { "PID": [[1, "Set ID - PID", "SI"], [3, "Patient Identifier List", "CX"], ...], ... }
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const IG = 'shared/corpus/HL7-v2-to-fhir-IG/mappings/segments';
// From the main checkout the corpus is ../shared; from a worktree under wt/, ../../shared.
const dir = process.argv[2] ?? [join(root, '..', IG), join(root, '../..', IG)].find((d) => existsSync(d));
if (!dir) throw new Error(`the IG segment maps are not at ../${IG}: pass their folder`);

/** One CSV line's cells (quoted cells may hold commas and doubled quotes). */
function cells(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const table = {};
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.csv'))
  .sort()) {
  for (const line of readFileSync(join(dir, file), 'utf8').split(/\r?\n/)) {
    const [, identifier, name, type] = cells(line);
    const m = /^([A-Z][A-Z0-9]{2})-(\d+)$/.exec(identifier?.trim() ?? '');
    if (!m || !name?.trim()) continue;
    const fields = (table[m[1]] ??= {});
    fields[Number(m[2])] ??= [Number(m[2]), name.trim(), (type ?? '').trim()];
  }
}
const out = Object.fromEntries(
  Object.keys(table)
    .sort()
    .map((seg) => [seg, Object.values(table[seg]).sort((a, b) => a[0] - b[0])]),
);
writeFileSync(join(root, 'web/src/v2-fields.json'), JSON.stringify(out) + '\n');
console.log(`${Object.keys(out).length} segments, ${Object.values(out).reduce((n, f) => n + f.length, 0)} fields`);
