import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConceptMapYaml } from '../../../src/mapping/concept-maps.js';

// The generator is plain ESM JavaScript (it runs with bare `node`, no TS loader on Node 20); this is its shape.
interface ConvertedRow {
  code: string;
  text?: string;
  system?: string;
  when?: string;
  target?: { code: string; system?: string; display?: string };
  comment?: string;
}
interface ConvertedMap {
  name: string;
  sourceFile: string;
  sourceSystem?: string;
  rows: ConvertedRow[];
  fhirOnlyRows: number;
}
interface Generator {
  parseCsv(text: string): string[][];
  mapNameFromFile(file: string): string | undefined;
  convertConceptMapCsv(text: string, file: string): ConvertedMap;
  renderConceptMapYaml(map: ConvertedMap, source?: { repo?: string; commit?: string }): string;
  buildAll(igDir: string, outDir: string): string[];
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const scriptUrl = pathToFileURL(join(repoRoot, 'scripts/build-concept-maps.mjs')).href;
let gen: Generator;
beforeAll(async () => {
  gen = (await import(scriptUrl)) as Generator;
});

const HEADER =
  'HL7 v2,,,Condition (IF True),,,HL7 FHIR,,,,,Comments\n' +
  'Code,Text,Code System,Computable ANTLR,Computable FHIRPath,Narrative,Code,,Display,Code System,,\n';

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, embedded commas/newlines, CRLF, BOM and no final newline', () => {
    const text = '\ufeffa,"b,1","say ""hi"""\r\n"multi\nline",,x\ny,z';
    expect(gen.parseCsv(text)).toEqual([
      ['a', 'b,1', 'say "hi"'],
      ['multi\nline', '', 'x'],
      ['y', 'z'],
    ]);
  });
});

describe('convertConceptMapCsv', () => {
  it('maps the standard 12-column layout', () => {
    const csv =
      HEADER +
      'F,Female,HL70001,,,,female,,Female,http://hl7.org/fhir/administrative-gender,,\n' +
      'A,Ambiguous,HL70001,,,,other,,Other,http://hl7.org/fhir/administrative-gender,,"a comment, quoted"\n' +
      'X,Unmapped,HL70001,,,,,,,,,\n' +
      ',,,,,,extra,,Extra,http://example.org,,\n';
    const map = gen.convertConceptMapCsv(csv, 'HL7 Concept Map_ AdministrativeSex - Sheet1.csv');
    expect(map).toEqual({
      name: 'AdministrativeSex',
      sourceFile: 'HL7 Concept Map_ AdministrativeSex - Sheet1.csv',
      sourceSystem: 'HL70001',
      fhirOnlyRows: 1,
      rows: [
        { code: 'F', text: 'Female', target: { code: 'female', system: 'http://hl7.org/fhir/administrative-gender', display: 'Female' } },
        {
          code: 'A',
          text: 'Ambiguous',
          target: { code: 'other', system: 'http://hl7.org/fhir/administrative-gender', display: 'Other' },
          comment: 'a comment, quoted',
        },
        { code: 'X', text: 'Unmapped' },
      ],
    });
  });

  it('keeps conditions verbatim as `when`', () => {
    const csv =
      HEADER +
      'U,Update,HL70206,,,local assessment,PUT,,PUT,http://hl7.org/fhir/http-verb,,\nY,No order,HL70206,IF NOT MAPPED ERROR,,,,,,,,\n';
    const map = gen.convertConceptMapCsv(csv, 'HL7 Concept Map_ Sample - Sheet1.csv');
    expect(map.rows[0]).toMatchObject({ code: 'U', when: 'local assessment', target: { code: 'PUT' } });
    expect(map.rows[1]).toEqual({ code: 'Y', text: 'No order', when: 'IF NOT MAPPED ERROR' });
  });

  it('finds columns by header name: 9-column layout, display in the blank column, trimmed NBSP codes', () => {
    const nine =
      'HL7 v2,,,Condition (IF TRUE),,,HL7 FHIR,,\n' +
      'Code,Text,Code System,Computable ANTLR,Computable FHIRpath,Narrative,Code,Display,Code System\n' +
      'CA,Canceled,HL70038,,,,revoked,Revoked,http://hl7.org/fhir/request-status\n';
    expect(gen.convertConceptMapCsv(nine, 'HL7 Concept Map_ OrderStatus - Sheet1.csv').rows[0]!.target).toEqual({
      code: 'revoked',
      system: 'http://hl7.org/fhir/request-status',
      display: 'Revoked',
    });
    const blankDisplay = HEADER + 'E,Emergency,HL70004,,,,EMER,emergency,,http://terminology.hl7.org/CodeSystem/v3-ActCode,,\n';
    expect(gen.convertConceptMapCsv(blankDisplay, 'HL7 Concept Map_ PC - Sheet1.csv').rows[0]!.target!.display).toBe('emergency');
    const nbsp = HEADER + '<\u00a0,Off scale low,HL70078,,,,<,,Off scale low,http://x,,\n';
    expect(gen.convertConceptMapCsv(nbsp, 'HL7 Concept Map_ I - Sheet1.csv').rows[0]!.code).toBe('<');
  });

  it('refuses a file name or header it does not understand', () => {
    expect(() => gen.convertConceptMapCsv(HEADER, 'random.csv')).toThrow(/file name/);
    expect(() => gen.convertConceptMapCsv('a,b\nc,d\n', 'HL7 Concept Map_ X - Sheet1.csv')).toThrow(/header/);
  });

  it('renders YAML the loader reads back, with the provenance header', () => {
    const csv = HEADER + 'Y,Yes,HL70136,,,,true,,,http://terminology.hl7.org/CodeSystem/special-values,,\n01,One,HL70136,,,,1,,,urn:x,,\n';
    const map = gen.convertConceptMapCsv(csv, 'HL7 Concept Map_ YesNoIndicator - Sheet1.csv');
    const yaml = gen.renderConceptMapYaml(map, { repo: 'HL7/v2-to-fhir', commit: '8c9b414be1729c98988b17e7fa86221fc8018c73' });
    expect(yaml).toMatch(/^# Generated by scripts\/build-concept-maps\.mjs from the HL7 v2-to-FHIR IG 1\.0\.0/);
    expect(yaml).toContain('HL7 Concept Map_ YesNoIndicator - Sheet1.csv (HL7/v2-to-fhir @ 8c9b414be172)');
    const loaded = parseConceptMapYaml(yaml, 'YesNoIndicator.yaml');
    // YAML scalars that look like booleans or numbers stay strings.
    expect(loaded.translate('Y')?.code).toBe('true');
    expect(loaded.translate('01')?.code).toBe('1');
  });
});

const igDir = resolve(repoRoot, '..', 'shared', 'corpus', 'HL7-v2-to-fhir-IG');
describe.skipIf(!existsSync(igDir))('against the IG in ../shared (skipped when absent)', () => {
  const out = mkdtempSync(join(tmpdir(), 'carebridge-cm-build-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('regenerating reproduces the committed YAML byte for byte', () => {
    gen.buildAll(igDir, out);
    const committedDir = join(repoRoot, 'mappings', 'base', 'concept-maps');
    const generated = readdirSync(out).sort();
    expect(generated).toEqual(
      readdirSync(committedDir)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    );
    for (const file of generated) {
      expect(readFileSync(join(out, file), 'utf8'), file).toBe(readFileSync(join(committedDir, file), 'utf8'));
    }
  });
});
