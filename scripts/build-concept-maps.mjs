#!/usr/bin/env node
// Converts the HL7 v2-to-FHIR IG 1.0.0 vocabulary maps (CSV, two header rows) into the YAML concept maps
// committed under mappings/base/concept-maps/. Only this generator needs the IG; the gateway and its
// tests read the committed YAML, so they work without ../shared.
//
//   node scripts/build-concept-maps.mjs [--ig DIR] [--out DIR]
//
// DIR defaults: --ig ../shared/corpus/HL7-v2-to-fhir-IG (next to the repository), --out mappings/base/concept-maps.
// Columns are found by their header names, not positions: the IG sheets differ (some lack the blank
// column after the FHIR code, one has a single "Computable" condition column, one keeps the display in
// the blank column). Rows without a v2 code (FHIR-only values) cannot be translated and are counted,
// not kept. Condition cells are kept verbatim as `when:`; carebridge does not evaluate them.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Document, visit, isPair, isScalar } from 'yaml';

export const IG_VERSION = '1.0.0';
const FILE_PATTERN = /^HL7 Concept Map_ (.+) - [^-]+\.csv$/;

/** RFC 4180 CSV: quoted fields, doubled quotes, CR/LF/CRLF, newlines inside quotes, a UTF-8 BOM. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Map name from an IG file name: "HL7 Concept Map_ PatientClass[EncounterClass] - Sheet1.csv" -> "PatientClass[EncounterClass]". */
export function mapNameFromFile(fileName) {
  const m = FILE_PATTERN.exec(basename(fileName));
  return m ? m[1].trim() : undefined;
}

function columns(header1, header2) {
  const find = (name, from = 0) => header2.findIndex((h, i) => i >= from && h.trim().toLowerCase() === name);
  const v2Code = find('code');
  const v2System = find('code system', v2Code + 1);
  const fhirCode = find('code', v2System + 1);
  const display = find('display', fhirCode + 1);
  const fhirSystem = find('code system', fhirCode + 1);
  const text = find('text');
  if (v2Code < 0 || v2System < 0 || fhirCode < 0 || fhirSystem < 0) {
    throw new Error(`unexpected header row: ${header2.join(',')}`);
  }
  const conditions = [];
  for (let i = v2System + 1; i < fhirCode; i++) conditions.push(i);
  // The blank-headed column between the FHIR code and Display sometimes holds the display.
  const displayFallback = [];
  for (let i = fhirCode + 1; i < (display < 0 ? fhirSystem : display); i++) {
    if (!header2[i]?.trim()) displayFallback.push(i);
  }
  const comments = header1.findIndex((h) => h.trim().toLowerCase() === 'comments');
  return { v2Code, text, v2System, conditions, fhirCode, display, displayFallback, fhirSystem, comments };
}

/**
 * One IG CSV -> { name, sourceFile, sourceSystem, rows, fhirOnlyRows }.
 * rows: { code, text?, system?, when?, target?: { code, system?, display? }, comment? }
 */
export function convertConceptMapCsv(csvText, fileName) {
  const name = mapNameFromFile(fileName);
  if (!name) throw new Error(`${fileName}: not an IG concept map file name`);
  const table = parseCsv(csvText);
  if (table.length < 2) throw new Error(`${fileName}: missing the two header rows`);
  const col = columns(table[0], table[1]);
  const cell = (r, i) => (i >= 0 && i < r.length ? r[i].trim() : '');
  const rows = [];
  let fhirOnlyRows = 0;
  const systems = new Map();
  for (const r of table.slice(2)) {
    if (r.every((c) => !c.trim())) continue;
    const code = cell(r, col.v2Code);
    if (!code) {
      fhirOnlyRows++;
      continue;
    }
    const row = { code };
    const text = cell(r, col.text);
    if (text) row.text = text;
    const system = cell(r, col.v2System);
    if (system) {
      row.system = system;
      systems.set(system, (systems.get(system) ?? 0) + 1);
    }
    const when = col.conditions.map((i) => cell(r, i)).filter(Boolean);
    if (when.length) row.when = when.join(' ; ');
    const targetCode = cell(r, col.fhirCode);
    if (targetCode) {
      const target = { code: targetCode };
      const targetSystem = cell(r, col.fhirSystem);
      if (targetSystem) target.system = targetSystem;
      const display = cell(r, col.display) || col.displayFallback.map((i) => cell(r, i)).find(Boolean);
      if (display) target.display = display;
      row.target = target;
    }
    const comment = cell(r, col.comments);
    if (comment) row.comment = comment;
    rows.push(row);
  }
  // The table the map reads from: the v2 code system most rows name (they all agree in IG 1.0.0).
  const sourceSystem = [...systems.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  for (const row of rows) if (row.system === sourceSystem) delete row.system;
  return { name, sourceFile: basename(fileName), sourceSystem, rows, fhirOnlyRows };
}

/** YAML text for a converted map, with the provenance header. */
export function renderConceptMapYaml(map, source = {}) {
  const doc = new Document({
    name: map.name,
    igVersion: IG_VERSION,
    sourceFile: map.sourceFile,
    ...(map.sourceSystem ? { sourceSystem: map.sourceSystem } : {}),
    rows: map.rows,
  });
  // Targets on one line each keep the files short and diffs readable.
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === 'target' && pair.value) pair.value.flow = true;
    },
  });
  const lines = [
    `Generated by scripts/build-concept-maps.mjs from the HL7 v2-to-FHIR IG ${IG_VERSION} - do not edit;`,
    'partner-specific codes belong in a partner overlay (conceptMaps overrides).',
    `Source: mappings/codesystems/${map.sourceFile}${source.repo ? ` (${source.repo} @ ${source.commit.slice(0, 12)})` : ''}`,
    'Rows with `when:` carry the IG condition verbatim; conditions are not evaluated and translate() skips them.',
  ];
  if (map.fhirOnlyRows) lines.push(`${map.fhirOnlyRows} FHIR-only row(s) without a v2 code omitted (nothing to translate from).`);
  if (map.rows.length === 0) lines.push('The IG maps no v2 codes here; add them with partner overrides.');
  doc.commentBefore = lines.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

function readManifest(igDir) {
  // shared/corpus/manifest.tsv records where each corpus file came from (repo, commit).
  const manifest = join(dirname(igDir), 'manifest.tsv');
  const byPath = new Map();
  if (!existsSync(manifest)) return byPath;
  for (const line of readFileSync(manifest, 'utf8').split('\n').slice(1)) {
    const [localPath, repo, , commit] = line.split('\t');
    if (localPath && repo && commit) byPath.set(localPath, { repo, commit });
  }
  return byPath;
}

function readInventory(igDir) {
  // The IG's map inventory names the v2 table of every map, also for maps whose rows have no v2 codes.
  const file = join(igDir, 'mappings', 'v2-to-FHIR Map Inventory - Code System.csv');
  const tables = new Map();
  if (!existsSync(file)) return tables;
  for (const [name, table] of parseCsv(readFileSync(file, 'utf8')).slice(1)) {
    if (name?.trim() && /^HL7\d{4}$/.test(table?.trim() ?? '')) tables.set(name.trim(), table.trim());
  }
  return tables;
}

export function buildAll(igDir, outDir) {
  const csvDir = join(igDir, 'mappings', 'codesystems');
  if (!existsSync(csvDir)) throw new Error(`IG vocabulary maps not found at ${csvDir} (use --ig DIR)`);
  const manifest = readManifest(igDir);
  const inventory = readInventory(igDir);
  const files = readdirSync(csvDir)
    .filter((f) => FILE_PATTERN.test(f))
    .sort();
  mkdirSync(outDir, { recursive: true });
  for (const old of readdirSync(outDir)) if (old.endsWith('.yaml')) rmSync(join(outDir, old));
  const summary = [];
  for (const file of files) {
    const map = convertConceptMapCsv(readFileSync(join(csvDir, file), 'utf8'), file);
    map.sourceSystem ??= inventory.get(map.name);
    const source = manifest.get(`${basename(igDir)}/mappings/codesystems/${file}`) ?? {};
    writeFileSync(join(outDir, `${map.name}.yaml`), renderConceptMapYaml(map, source));
    summary.push(`${map.name}: ${map.rows.length} rows${map.fhirOnlyRows ? `, ${map.fhirOnlyRows} FHIR-only omitted` : ''}`);
  }
  return summary;
}

function main(argv) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const arg = (flag) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const igDir = resolve(arg('--ig') ?? join(repoRoot, '..', 'shared', 'corpus', 'HL7-v2-to-fhir-IG'));
  const outDir = resolve(arg('--out') ?? join(repoRoot, 'mappings', 'base', 'concept-maps'));
  try {
    const summary = buildAll(igDir, outDir);
    process.stdout.write(`${summary.join('\n')}\nwrote ${summary.length} concept maps to ${outDir}\n`);
  } catch (err) {
    process.stderr.write(`build-concept-maps: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
