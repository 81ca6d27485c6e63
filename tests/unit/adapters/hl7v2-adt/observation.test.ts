import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Encounter, Observation } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { convertAdt } from '../../../../adapters/hl7v2-adt/index.js';
import { Hl7Message } from '../../../../src/hl7v2/index.js';
import { loadProfile } from '../../../../src/mapping/profile-loader.js';
import { errorsOf, formatIssues, validateWithBoth } from '../../../helpers/validate-fhir.js';

const profile = loadProfile();
const A01 = readFileSync(join(import.meta.dirname, '../../../../fixtures/hl7v2/adt/A01.hl7'), 'latin1').replace(/[\r\n]+$/, '');

/** The A01 fixture with these OBX (and NTE) segments appended. */
function adtWith(...segments: string[]) {
  const converted = convertAdt(Hl7Message.parse([A01, ...segments].join('\r')), profile);
  const bundle = JSON.parse(JSON.stringify(converted.bundle)) as Bundle;
  const observations = (bundle.entry ?? []).map((e) => e.resource!).filter((r): r is Observation => r.resourceType === 'Observation');
  return { bundle, observations, warnings: converted.warnings };
}

function expectValid(bundle: Bundle) {
  const errors = errorsOf(validateWithBoth(bundle));
  expect(errors, formatIssues(errors)).toEqual([]);
  for (const e of bundle.entry ?? []) {
    const own = errorsOf(validateWithBoth(e.resource!));
    expect(own, `${e.resource!.resourceType}: ${formatIssues(own)}`).toEqual([]);
  }
}

describe('OBX → Observation in ADT (height, weight, …)', () => {
  it('NM with UCUM units becomes a vital-signs valueQuantity of the patient and the visit', () => {
    const { bundle, observations, warnings } = adtWith(
      'OBX|1|NM|8302-2^Body height^LN||165|cm^centimeter^UCUM|||||F|||20240501081000',
      'OBX|2|NM|29463-7^Body weight^LN||72.5|kg^kilogram^UCUM|||||F|||20240501081000',
    );
    expect(observations).toHaveLength(2);
    const [height, weight] = observations;
    const patient = bundle.entry!.find((e) => e.resource!.resourceType === 'Patient')!;
    const encounter = bundle.entry!.find((e) => e.resource!.resourceType === 'Encounter')!;
    expect(height.subject?.reference).toBe(patient.fullUrl);
    expect(height.encounter?.reference).toBe(encounter.fullUrl);
    expect(height.status).toBe('final');
    expect(height.category?.[0].coding?.[0].code).toBe('vital-signs');
    expect(height.code.coding?.[0]).toEqual({ system: 'http://loinc.org', code: '8302-2', display: 'Body height' });
    expect(height.valueQuantity).toEqual({ value: 165, unit: 'centimeter', system: 'http://unitsofmeasure.org', code: 'cm' });
    expect(weight.valueQuantity?.value).toBe(72.5);
    expect(height.effectiveDateTime).toBe('2024-05-01T08:10:00-04:00');
    expect(warnings.filter((w) => w.startsWith('OBX'))).toEqual([]);
    // Provenance targets the observations too; MessageHeader still focuses the Encounter.
    const provenance = bundle.entry!.at(-1)!.resource as import('fhir/r4').Provenance;
    expect(provenance.target.map((t) => t.reference)).toContain(`urn:uuid:${weight.id}`);
    expectValid(bundle);
  });

  it('ids are keyed on the visit, the code and OBX-14: a resend updates, a new weighing adds', () => {
    const weight = (time: string) => adtWith(`OBX|1|NM|29463-7^Body weight^LN||72.5|kg^^UCUM|||||F|||${time}`).observations[0].id;
    expect(weight('20240501081000')).toBe(weight('20240501081000'));
    expect(weight('20240502081000')).not.toBe(weight('20240501081000'));
  });

  it('value types: ST/TX lines, CWE, SN range/ratio/comparator, DT, TM, NR; reference range, flags, notes', () => {
    const { bundle, observations } = adtWith(
      'OBX|1|TX|11450-4^Problem list^LN||first line~second line||||||F',
      'NTE|1||Patient reported.',
      'OBX|2|CWE|72166-2^Tobacco smoking status^LN||449868002^Current every day smoker^SCT||||||F',
      'OBX|3|SN|2345-7^Glucose^LN||^70^-^110|mg/dL^^UCUM|||||F',
      'OBX|4|SN|5196-1^Titer^LN||^1^:^64||||||F',
      'OBX|5|SN|2160-0^Creatinine^LN||<^0.5|mg/dL^^UCUM|0.6-1.2|L|||F',
      'OBX|6|DT|11778-8^Estimated delivery date^LN||20241015||||||F',
      'OBX|7|TM|X1^Time of dose^L||0830||||||P',
      'OBX|8|NM|2339-0^Glucose^LN||182|mg/dL^^UCUM|70-110|H^High^HL70078|||C',
    );
    const byCode = (code: string) => observations.find((o) => o.code.coding?.[0].code === code)!;
    expect(byCode('11450-4').valueString).toBe('first line\nsecond line');
    expect(byCode('11450-4').note).toEqual([{ text: 'Patient reported.' }]);
    expect(byCode('72166-2').valueCodeableConcept?.coding?.[0]).toEqual({
      system: 'http://snomed.info/sct',
      code: '449868002',
      display: 'Current every day smoker',
    });
    expect(byCode('2345-7').valueRange?.low?.value).toBe(70);
    expect(byCode('2345-7').valueRange?.high).toMatchObject({ value: 110, code: 'mg/dL' });
    expect(byCode('5196-1').valueRatio).toEqual({ numerator: { value: 1 }, denominator: { value: 64 } });
    expect(byCode('2160-0').valueQuantity).toMatchObject({ value: 0.5, comparator: '<' });
    expect(byCode('2160-0').referenceRange?.[0]).toMatchObject({ low: { value: 0.6 }, high: { value: 1.2 }, text: '0.6-1.2' });
    expect(byCode('2160-0').interpretation?.[0].coding?.[0]).toMatchObject({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
      code: 'L',
    });
    expect(byCode('11778-8').valueDateTime).toBe('2024-10-15');
    expect(byCode('X1').valueTime).toBe('08:30:00');
    expect(byCode('X1').status).toBe('preliminary');
    expect(byCode('2339-0').status).toBe('corrected');
    expect(byCode('2339-0').interpretation?.[0].coding?.[0].code).toBe('H');
    expectValid(bundle);
  });

  it('unmapped value types and missing status are warned about, never guessed', () => {
    const { bundle, observations, warnings } = adtWith(
      'OBX|1|XYZ|1234-5^Thing^LN||abc',
      'OBX|2|NM|8302-2^Body height^LN||tall|cm^^UCUM',
      'OBX|3|NM|||5',
    );
    expect(observations).toHaveLength(2);
    expect(observations[0].status).toBe('unknown');
    expect(observations[0].dataAbsentReason?.coding?.[0].code).toBe('unsupported');
    expect(observations[1].valueString).toBe('tall');
    expect(warnings).toEqual(
      expect.arrayContaining([
        "OBX-1: value type 'XYZ' (OBX-2) is not mapped; value dropped",
        'OBX-1: no result status (OBX-11); status unknown',
        'OBX-2: numeric value (NM) is not a number; kept as text',
        'OBX-3: no observation identifier (OBX-3); segment skipped',
      ]),
    );
    expectValid(bundle);
  });

  it('a missing value type (OBX-2) is inferred from the value, with a warning', () => {
    const { observations, warnings } = adtWith('OBX|1||X2^Oxygen flow^L||5|L/min^^UCUM|||||F', 'OBX|2||X3^Device^L||Venturi mask||||||F');
    expect(observations[0].valueQuantity).toEqual({ value: 5, unit: 'L/min', system: 'http://unitsofmeasure.org', code: 'L/min' });
    expect(observations[1].valueString).toBe('Venturi mask');
    expect(warnings).toEqual(
      expect.arrayContaining(['OBX-1: no value type (OBX-2); value read as NM', 'OBX-2: no value type (OBX-2); value read as ST']),
    );
  });

  it('OBX-11 N (not asked) has a data-absent-reason and no value; ED base64 becomes an attachment', () => {
    const { bundle, observations } = adtWith(
      'OBX|1|NM|8302-2^Body height^LN||165|cm|||||N',
      'OBX|2|ED|11502-2^Report^LN||^AP^PDF^Base64^JVBERi0xLjQK||||||F',
    );
    expect(observations[0].valueQuantity).toBeUndefined();
    expect(observations[0].dataAbsentReason?.coding?.[0].code).toBe('not-asked');
    expect(observations[1].extension?.[0].valueAttachment).toEqual({ contentType: 'application/pdf', data: 'JVBERi0xLjQK' });
    expectValid(bundle);
  });

  it('an ADT without a visit keys its observations on the patient', () => {
    const a28 = readFileSync(join(import.meta.dirname, '../../../../fixtures/hl7v2/adt/A28.hl7'), 'latin1').replace(/[\r\n]+$/, '');
    const { bundle } = convertAdt(Hl7Message.parse(`${a28}\rOBX|1|NM|29463-7^Body weight^LN||70|kg^^UCUM|||||F`), profile);
    const obs = JSON.parse(JSON.stringify(bundle))
      .entry.map((e: { resource: Observation | Encounter }) => e.resource)
      .find((r: { resourceType: string }) => r.resourceType === 'Observation') as Observation;
    expect(obs.encounter).toBeUndefined();
    expect(obs.subject?.reference).toMatch(/^urn:uuid:/);
  });
});
