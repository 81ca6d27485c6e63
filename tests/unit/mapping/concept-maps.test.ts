import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConceptMapError,
  baseConceptMaps,
  conceptMapOverridesSchema,
  loadConceptMap,
  loadConceptMaps,
  parseConceptMapYaml,
  translate,
  v2TableNumber,
  v2TableSystem,
  withOverrides,
} from '../../../src/mapping/concept-maps.js';

const GENDER = 'http://hl7.org/fhir/administrative-gender';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

describe('committed base maps', () => {
  const required = [
    'Event[EncounterStatus]',
    'PatientClass[EncounterClass]',
    'PatientClass[EncounterStatus]',
    'AdministrativeSex',
    'MaritalStatus',
    'NameType',
    'AddressType[Use]',
    'AddressType[Type]',
    'TelecommunicationUseCode',
    'TelecommunicationEquipmentType',
    'IdentifierType',
    'AdmissionType',
    'DischargeDisposition',
    'Relationship',
    'ContactRole',
    'PrimaryLanguage',
    'Religion',
    'EventType',
    'ReadmissionIndicator',
    'VIPIndicator',
    'HospitalService',
    'Participation',
    'YesNoIndicator',
  ];

  it.each(required)('%s loads', (name) => {
    const map = loadConceptMap(name);
    expect(map.name).toBe(name);
    expect(map.sourceSystem).toMatch(/^HL7\d{4}$/);
  });

  it('lists every generated map', () => {
    const names = baseConceptMaps().names();
    expect(names).toEqual(expect.arrayContaining(required));
    expect(names.length).toBeGreaterThanOrEqual(90);
  });

  it('translates per the IG', () => {
    expect(translate(loadConceptMap('AdministrativeSex'), 'F')).toEqual({ code: 'female', system: GENDER, display: 'Female' });
    expect(translate(loadConceptMap('AdministrativeSex'), 'A')).toEqual({ code: 'other', system: GENDER, display: 'Other' });
    expect(translate(loadConceptMap('PatientClass[EncounterClass]'), 'E')).toEqual({
      code: 'EMER',
      system: ACT_CODE,
      display: 'emergency',
    });
    expect(translate(loadConceptMap('PatientClass[EncounterStatus]'), 'P')?.code).toBe('planned');
    expect(translate(loadConceptMap('Event[EncounterStatus]'), 'A03')?.code).toBe('finished');
    expect(translate(loadConceptMap('Event[EncounterStatus]'), 'A08')?.code).toBe('unknown');
    expect(translate(loadConceptMap('MaritalStatus'), 'S')).toEqual({
      code: 'S',
      system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
      display: 'Never Married',
    });
    expect(translate(loadConceptMap('NameType'), 'L')?.code).toBe('official');
    expect(translate(loadConceptMap('TelecommunicationUseCode'), 'PRN')?.code).toBe('home');
    expect(translate(loadConceptMap('TelecommunicationEquipmentType'), 'Internet')?.code).toBe('email');
    expect(translate(loadConceptMap('IdentifierType'), 'MR')?.system).toBe('http://terminology.hl7.org/CodeSystem/v2-0203');
    expect(translate(loadConceptMap('YesNoIndicator'), 'Y')?.code).toBe('true');
    expect(translate(loadConceptMap('EventReason'), '01')?.display).toBe('patient requested');
  });

  it('a code the IG leaves unmapped, an unknown code and an empty code give undefined', () => {
    expect(translate(loadConceptMap('NameType'), 'A')).toBeUndefined();
    expect(translate(loadConceptMap('AdministrativeSex'), 'Z')).toBeUndefined();
    expect(translate(loadConceptMap('AdministrativeSex'), '  ')).toBeUndefined();
  });

  it('IG rows with a condition are kept but never used', () => {
    const map = loadConceptMap('SegmentActionCode');
    expect(map.rows.filter((r) => r.code === 'U').map((r) => [r.when, r.target?.code])).toEqual([
      ['local assessment', 'PUT'],
      ['local assessment', 'PATCH'],
    ]);
    expect(translate(map, 'U')).toBeUndefined();
    expect(translate(map, 'A')?.code).toBe('POST');
  });

  it('maps the IG gives no v2 codes for are empty (partners fill them)', () => {
    expect(loadConceptMap('DischargeDisposition').rows).toEqual([]);
    expect(loadConceptMap('DischargeDisposition').sourceSystem).toBe('HL70112');
  });

  it('matches case-insensitively only as a fallback', () => {
    expect(translate(loadConceptMap('AdministrativeSex'), 'f')?.code).toBe('female');
    expect(translate(loadConceptMap('TelecommunicationEquipmentType'), 'INTERNET')?.code).toBe('email');
  });

  it('honours the coding system of the code', () => {
    const sex = loadConceptMap('AdministrativeSex');
    for (const system of ['HL70001', 'hl70001', 'http://terminology.hl7.org/CodeSystem/v2-0001', 'urn:oid:2.16.840.1.113883.12.1']) {
      expect(translate(sex, 'F', { system })?.code).toBe('female');
    }
    // A local code system or another table: the IG row does not apply.
    expect(translate(sex, 'F', { system: 'L' })).toBeUndefined();
    expect(translate(sex, 'F', { system: 'HL70002' })).toBeUndefined();
    expect(translate(sex, 'F', { system: '' })?.code).toBe('female');
  });

  it('returns copies (callers may mutate)', () => {
    const a = translate(loadConceptMap('AdministrativeSex'), 'F')!;
    a.code = 'changed';
    expect(translate(loadConceptMap('AdministrativeSex'), 'F')?.code).toBe('female');
  });

  it('caches maps', () => {
    expect(loadConceptMap('AdministrativeSex')).toBe(loadConceptMap('AdministrativeSex'));
  });

  it('unknown and malicious names', () => {
    expect(() => loadConceptMap('NoSuchMap')).toThrow(ConceptMapError);
    expect(baseConceptMaps().get('NoSuchMap')).toBeUndefined();
    expect(() => baseConceptMaps().get('../../package')).toThrow(/invalid concept map name/);
  });
});

describe('withOverrides', () => {
  const overrides = conceptMapOverridesSchema.parse({
    AdministrativeSex: {
      X: { code: 'other', system: GENDER, display: 'Other' },
      A: { code: 'unknown', system: GENDER },
      N: null,
    },
    'PatientClass[EncounterClass]': {
      OBS: { code: 'OBSENC', system: ACT_CODE, display: 'observation encounter' },
    },
    FacilityType: { BH: { code: 'bh', system: 'urn:example:facility-type' } },
  });
  const maps = withOverrides(baseConceptMaps(), overrides);

  it('adds codes, and the override wins over the IG', () => {
    expect(maps.translate('AdministrativeSex', 'X')?.code).toBe('other');
    expect(maps.translate('AdministrativeSex', 'A')).toEqual({ code: 'unknown', system: GENDER });
    expect(maps.translate('PatientClass[EncounterClass]', 'OBS')?.code).toBe('OBSENC');
  });

  it('null removes an IG mapping; untouched codes keep the IG mapping', () => {
    expect(maps.translate('AdministrativeSex', 'N')).toBeUndefined();
    expect(maps.translate('AdministrativeSex', 'F')?.code).toBe('female');
    expect(maps.translate('PatientClass[EncounterClass]', 'E')?.code).toBe('EMER');
  });

  it('overrides apply to partner-local coding systems too', () => {
    expect(maps.translate('AdministrativeSex', 'X', { system: '99LOCAL' })?.code).toBe('other');
    expect(maps.translate('AdministrativeSex', 'F', { system: '99LOCAL' })).toBeUndefined();
  });

  it('a map only the partner has', () => {
    expect(maps.translate('FacilityType', 'BH')?.code).toBe('bh');
    expect(maps.names()).toContain('FacilityType');
  });

  it('does not change the base maps', () => {
    expect(baseConceptMaps().translate('AdministrativeSex', 'X')).toBeUndefined();
    expect(baseConceptMaps().translate('AdministrativeSex', 'N')?.code).toBe('other');
  });

  it('layers: a second overlay wins over the first', () => {
    const again = withOverrides(maps, { AdministrativeSex: { X: { code: 'unknown', system: GENDER } } });
    expect(again.translate('AdministrativeSex', 'X')?.code).toBe('unknown');
    expect(again.translate('AdministrativeSex', 'N')).toBeUndefined();
  });

  it('the schema rejects a target without a system', () => {
    const r = conceptMapOverridesSchema.safeParse({ AdministrativeSex: { X: { code: 'other' } } });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]!.path).toEqual(['AdministrativeSex', 'X', 'system']);
  });
});

describe('v2 table systems', () => {
  it('v2TableSystem', () => {
    expect(v2TableSystem('0203')).toBe('http://terminology.hl7.org/CodeSystem/v2-0203');
    expect(v2TableSystem('203')).toBe('http://terminology.hl7.org/CodeSystem/v2-0203');
    expect(v2TableSystem(4)).toBe('http://terminology.hl7.org/CodeSystem/v2-0004');
    expect(v2TableSystem('HL70001')).toBe('http://terminology.hl7.org/CodeSystem/v2-0001');
    expect(() => v2TableSystem('abc')).toThrow(TypeError);
    expect(() => v2TableSystem('12345')).toThrow(TypeError);
  });

  it('v2TableNumber', () => {
    expect(v2TableNumber('HL70203')).toBe('0203');
    expect(v2TableNumber('http://terminology.hl7.org/CodeSystem/v2-0203')).toBe('0203');
    expect(v2TableNumber('2.16.840.1.113883.12.203')).toBe('0203');
    expect(v2TableNumber('L')).toBeUndefined();
    expect(v2TableNumber('http://loinc.org')).toBeUndefined();
  });
});

describe('loading from a directory, errors name file and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carebridge-cm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a custom directory', () => {
    writeFileSync(
      join(dir, 'Tiny.yaml'),
      'name: Tiny\nsourceSystem: HL79999\nrows:\n  - code: "01"\n    target: { code: one, system: urn:x }\n',
    );
    const maps = loadConceptMaps(dir);
    expect(maps.translate('Tiny', '01')).toEqual({ code: 'one', system: 'urn:x' });
    expect(maps.names()).toEqual(['Tiny']);
  });

  it('rejects a numeric code, a target without system, and a name mismatch', () => {
    expect(() => parseConceptMapYaml('name: T\nrows:\n  - code: 01\n', 'T.yaml')).toThrow(/T\.yaml: rows\.0\.code/);
    expect(() => parseConceptMapYaml('name: T\nrows:\n  - code: A\n    target: { code: a }\n', 'T.yaml')).toThrow(
      /rows\.0\.target\.system/,
    );
    expect(() => parseConceptMapYaml('name: [\n', 'T.yaml')).toThrow(/invalid YAML/);
    writeFileSync(join(dir, 'Other.yaml'), 'name: NotOther\nrows: []\n');
    expect(() => loadConceptMaps(dir).get('Other')).toThrow(/does not match/);
  });
});
