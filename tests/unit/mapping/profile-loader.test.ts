import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearProfileCache, loadProfile, ProfileError } from '../../../src/mapping/profile-loader.js';

const BASE = readFileSync(join(import.meta.dirname, '../../../mappings/base/hl7v2-adt.yaml'), 'utf8');

function dirWith(overlay: string | undefined, base = BASE): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-profile-'));
  mkdirSync(join(dir, 'base'));
  writeFileSync(join(dir, 'base', 'hl7v2-adt.yaml'), base);
  if (overlay !== undefined) {
    mkdirSync(join(dir, 'partners', 'acme'), { recursive: true });
    writeFileSync(join(dir, 'partners', 'acme', 'hl7v2-adt.yaml'), overlay);
  }
  return dir;
}

function errorOf(dir: string, partner?: string): ProfileError {
  clearProfileCache();
  try {
    loadProfile({ mappingsDir: dir, partner });
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    return e as ProfileError;
  }
  throw new Error('expected a ProfileError');
}

describe('mapping profile loading', () => {
  it('loads the shipped base and the example partner overlay', () => {
    clearProfileCache();
    expect(loadProfile().id).toBe('base');
    const p = loadProfile({ partner: 'example-aco' });
    expect(p.id).toBe('example-aco');
    expect(p.identifierSystems.SSA).toBe('http://hl7.org/fhir/sid/us-ssn'); // inherited from base
    expect(p.identifierSystems.MGH).toBe('urn:oid:2.16.840.1.113883.3.1.100'); // overlay
    expect(p.fields.visitNumber).toBe('PV1-19');
  });

  it('overlays merge objects key by key and replace lists', () => {
    const dir = dirWith('id: acme\nfields: { patientIdentifiers: PID-2 }\nzSegments: []\ntimeZone: America/Chicago\n');
    clearProfileCache();
    const p = loadProfile({ mappingsDir: dir, partner: 'acme' });
    expect(p.fields.patientIdentifiers).toBe('PID-2');
    expect(p.fields.patientName).toBe('PID-5');
    expect(p.timeZone).toBe('America/Chicago');
  });

  const cases: [string, string, RegExp][] = [
    ['bad time zone', 'id: acme\ntimeZone: Mars/Olympus\n', /partners\/acme\/hl7v2-adt\.yaml: timeZone: must be an IANA time zone/],
    ['bad path', 'id: acme\nfields: { ssn: PID19 }\n', /hl7v2-adt\.yaml: fields\.ssn: must be a path like PID-3/],
    ['unknown field name', 'id: acme\nfields: { shoeSize: PID-3 }\n', /fields\.shoeSize/],
    ['unknown top-level key', 'id: acme\ncolour: blue\n', /colour|Unrecognized key/],
    ['relative system URI', 'id: acme\nidentifierSystems: { X: not-a-uri }\n', /identifierSystems\.X: must be an absolute URI/],
    [
      'z-segment extension without url',
      'id: acme\nzSegments: [{ segment: ZPI, field: 2, resource: Patient, as: extension }]\n',
      /zSegments\.0\.url: required when as: extension/,
    ],
    [
      'not a Z segment',
      'id: acme\nzSegments: [{ segment: PID, field: 2, resource: Patient, as: identifier, system: "urn:x:y" }]\n',
      /zSegments\.0\.segment: must be a Z-segment id/,
    ],
    ['id differs from folder', 'id: other\n', /id: must be 'acme'/],
    ['unknown segment switch', 'id: acme\nsegments: { XYZ: false }\n', /segments\.XYZ: not a mappable segment/],
    ['segment switch not a boolean', 'id: acme\nsegments: { DG1: "no" }\n', /segments\.DG1/],
    ['medicaid system not a URI', 'id: acme\nmedicaid: { system: masshealth }\n', /medicaid\.system: must be an absolute URI/],
    ['invalid YAML', 'id: acme\nfields: [unclosed\n', /is not valid YAML at line \d+/],
    ['not a mapping', '- a\n- b\n', /must be a YAML mapping/],
  ];
  for (const [name, overlay, expected] of cases) {
    it(`fails at load naming file, key and problem: ${name}`, () => {
      const err = errorOf(dirWith(overlay), 'acme');
      expect(err.message).toMatch(expected);
      expect(err.message).not.toMatch(/\n\s+at /);
    });
  }

  it('names the base file when the base is at fault, and a missing partner', () => {
    expect(errorOf(dirWith(undefined, BASE.replace('nextOfKinAs: RelatedPerson', 'nextOfKinAs: Cousin'))).message).toMatch(
      /base\/hl7v2-adt\.yaml: nextOfKinAs:/,
    );
    expect(errorOf(dirWith(undefined), 'nobody').message).toMatch(/no hl7v2-adt profile for partner 'nobody'/);
  });
});
