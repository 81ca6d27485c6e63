import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Patient } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { convertAdt, SUPPORTED_EVENTS } from '../../../../adapters/hl7v2-adt/index.js';
import { Hl7Message } from '../../../../src/hl7v2/index.js';
import { loadProfile } from '../../../../src/mapping/profile-loader.js';
import { assertUsCorePatient, errorsOf, formatIssues, validateWithBoth } from '../../../helpers/validate-fhir.js';

const FIXTURES = join(import.meta.dirname, '../../../../fixtures/hl7v2/adt');
const GOLDEN = join(import.meta.dirname, '../../../../fixtures/fhir/adt');
const profile = loadProfile();

/** Provenance.recorded falls back to "now" only when EVN-2 and MSH-7 are both missing; fixtures have both. */
function convertFixture(name: string) {
  return convertAdt(Hl7Message.parse(readFileSync(join(FIXTURES, name))), profile);
}

describe('ADT → FHIR golden files (one per supported event, one per mapped segment)', () => {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.hl7'))
    .sort();
  it('covers every supported event (A01–A62 where defined)', () => {
    const events = files.map((f) => f.slice(0, 3));
    expect(SUPPORTED_EVENTS.length).toBe(56); // A01–A62 less A19 (a query), A20 (no patient), A56–A59 (undefined)
    for (const e of SUPPORTED_EVENTS) expect(events).toContain(e);
  });
  it('covers every mappable segment', () => {
    const text = files.map((f) => readFileSync(join(FIXTURES, f), 'latin1')).join('\r');
    for (const s of ['PD1', 'NK1', 'DG1', 'AL1', 'IAM', 'PR1', 'IN1', 'IN2', 'IN3', 'GT1', 'ROL', 'PRT', 'DB1', 'ACC', 'MRG'])
      expect(text).toContain(`\r${s}|`);
  });
  for (const file of files) {
    it(`${file} matches its golden Bundle and validates`, () => {
      const converted = convertFixture(file);
      const warnings = converted.warnings;
      // What every consumer sees: the serialized Bundle (in memory, emptied members are undefined).
      const bundle = JSON.parse(JSON.stringify(converted.bundle)) as Bundle;
      const golden = join(GOLDEN, file.replace(/\.hl7$/, '.json'));
      if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, JSON.stringify(bundle, null, 2) + '\n');
      expect(bundle).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
      const errors = errorsOf(validateWithBoth(bundle));
      expect(errors, formatIssues(errors)).toEqual([]);
      for (const e of bundle.entry ?? []) {
        const own = errorsOf(validateWithBoth(e.resource!));
        expect(own, `${e.resource!.resourceType}: ${formatIssues(own)}`).toEqual([]);
        if (e.resource!.resourceType === 'Patient') assertUsCorePatient(e.resource!);
      }
      expect(warnings.filter((w) => !w.startsWith('PV1-19'))).toEqual([]);
    });
  }
});

const byType = (b: Bundle, t: string) => (b.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === t);

describe('ADT mapping details', () => {
  it('MessageHeader: event in v2-0003, source MSH-3, sender MSH-4, focus the Encounter, first entry', () => {
    const { bundle } = convertFixture('A01.hl7');
    const mh = bundle.entry![0].resource as import('fhir/r4').MessageHeader;
    expect(mh.resourceType).toBe('MessageHeader');
    expect(mh.eventCoding).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v2-0003', code: 'A01' });
    expect(mh.source.name).toBe('EPICADT');
    expect(mh.focus?.[0].reference).toBe(`urn:uuid:${byType(bundle, 'Encounter')[0].id}`);
    expect(bundle.timestamp).toBe('2024-05-01T08:30:00-04:00');
  });

  it('every identifier has a system; MRN system comes from the HD OID of MSH/PID authority', () => {
    const { bundle } = convertFixture('A01.hl7');
    for (const e of bundle.entry!) for (const id of (e.resource as Patient).identifier ?? []) expect(id.system).toMatch(/^(https?:|urn:)/);
    const p = byType(bundle, 'Patient')[0] as Patient;
    expect(p.identifier?.map((i) => [i.system, i.value])).toEqual([
      ['urn:carebridge:carebridge:id:MGH', 'MRN1001'],
      ['https://www.mass.gov/masshealth/member-id', 'MA123456789'],
      ['http://hl7.org/fhir/sid/us-ssn', '123-45-6789'],
    ]);
  });

  it('resource ids are deterministic: a resend yields identical ids; another hospital a different Patient', () => {
    const a = convertFixture('A01.hl7').bundle;
    const b = convertFixture('A01.hl7').bundle;
    expect(a.entry!.map((e) => e.resource!.id)).toEqual(b.entry!.map((e) => e.resource!.id));
    const other = readFileSync(join(FIXTURES, 'A01.hl7'), 'latin1').replace('MRN1001^^^MGH^MR', 'MRN1001^^^BMC^MR');
    const c = convertAdt(Hl7Message.parse(other), profile).bundle;
    expect(byType(c, 'Patient')[0].id).not.toBe(byType(a, 'Patient')[0].id);
  });

  it('birthDate keeps its precision; times without offset take the profile zone (DST-aware)', () => {
    const text = readFileSync(join(FIXTURES, 'A01.hl7'), 'latin1')
      .replace('|19790312|', '|1979|')
      .replace('20240501080500', '20240115080500');
    const { bundle } = convertAdt(Hl7Message.parse(text), profile);
    expect((byType(bundle, 'Patient')[0] as Patient).birthDate).toBe('1979');
    expect((byType(bundle, 'Encounter')[0] as import('fhir/r4').Encounter).period?.start).toBe('2024-01-15T08:05:00-05:00');
  });

  it('an invalid date is dropped with a warning, never emitted', () => {
    const text = readFileSync(join(FIXTURES, 'A01.hl7'), 'latin1').replace('|19790312|', '|19791332|');
    const { bundle, warnings } = convertAdt(Hl7Message.parse(text), profile);
    expect((byType(bundle, 'Patient')[0] as Patient).birthDate).toBeUndefined();
    expect(warnings.some((w) => w.startsWith('PID-7: invalid date dropped'))).toBe(true);
    expect(warnings.join()).not.toContain('19791332');
  });

  it('A03 finishes the Encounter with discharge disposition; A11 cancels; A28 has no Encounter', () => {
    const enc = (f: string) => byType(convertFixture(f).bundle, 'Encounter')[0] as import('fhir/r4').Encounter | undefined;
    expect(enc('A03.hl7')?.status).toBe('finished');
    expect(enc('A03.hl7')?.period?.end).toBe('2024-05-04T15:00:00-04:00');
    expect(enc('A03.hl7')?.hospitalization?.dischargeDisposition?.coding?.[0].code).toBeDefined();
    expect(enc('A01.hl7')?.status).toBe('in-progress');
    expect(enc('A01.hl7')?.class.code).toBe('IMP');
    expect(enc('A04.hl7')?.class.code).toBe('AMB');
    expect(enc('A03-ed.hl7')?.class.code).toBe('EMER');
    expect(enc('A11.hl7')?.status).toBe('cancelled');
    expect(enc('A28.hl7')).toBeUndefined();
  });

  it('a diagnosis repeating the admit reason (PV2-3 = DG1-3) is one reason; other diagnoses follow it', () => {
    const text = readFileSync(join(FIXTURES, 'A01.hl7'), 'latin1').replace(
      'DG1|1||F32.9^Major depressive disorder, single episode, unspecified^I10||20240501|A',
      'DG1|1||R45.851^Suicidal ideations^I10||20240501|A\rDG1|2||F32.9^Major depressive disorder, single episode, unspecified^I10||20240501|W\rDG1|3||F32.9^Major depressive disorder^I10||20240501|F',
    );
    const e = byType(convertAdt(Hl7Message.parse(text), profile).bundle, 'Encounter')[0] as import('fhir/r4').Encounter;
    expect(e.reasonCode?.map((r) => r.coding?.[0].code)).toEqual(['R45.851', 'F32.9']);
  });

  it('A02 keeps the new location active and the prior one completed', () => {
    const e = byType(convertFixture('A02.hl7').bundle, 'Encounter')[0] as import('fhir/r4').Encounter;
    expect(e.location?.map((l) => l.status)).toEqual(['active', 'completed']);
  });

  it('A40 links survivor (replaces) and retired patient (replaced-by) with the old identifier', () => {
    const { bundle } = convertFixture('A40.hl7');
    const [survivor, retired] = byType(bundle, 'Patient') as Patient[];
    expect(survivor.link?.[0].type).toBe('replaces');
    expect(survivor.link?.[0].other.identifier?.value).toBe('MRN0999');
    expect(retired.active).toBe(false);
    expect(retired.link?.[0]).toEqual({ other: { reference: `urn:uuid:${survivor.id}` }, type: 'replaced-by' });
  });

  it('PD1-4 becomes generalPractitioner with an NPI; NK1 a RelatedPerson', () => {
    const { bundle } = convertFixture('A01.hl7');
    const p = byType(bundle, 'Patient')[0] as Patient;
    const gp = byType(bundle, 'Practitioner').find(
      (r) => `urn:uuid:${r.id}` === p.generalPractitioner?.[0].reference,
    ) as import('fhir/r4').Practitioner;
    expect(gp.identifier?.[0]).toEqual({ system: 'http://hl7.org/fhir/sid/us-npi', value: '1003000126' });
    expect(byType(bundle, 'RelatedPerson')).toHaveLength(1);
  });
});
