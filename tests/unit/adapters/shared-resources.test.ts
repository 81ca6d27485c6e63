import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Practitioner } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { convertAdt } from '../../../adapters/hl7v2-adt/index.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';
import { isShared } from '../../../src/fhir/shared.js';
import { applySecurityLabels, securityLabels } from '../../../src/routing/sensitivity.js';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/hl7v2/adt');
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.hl7')).sort();
const read = (f: string) => readFileSync(join(FIXTURES, f));

// Practitioners, Organizations and Locations are built once per profile and shared between Bundles.
describe('resources shared between conversions', () => {
  it('give the same output from a cold cache as from a warm one, in any order', () => {
    const warm = loadProfile();
    for (const f of [...files].reverse()) convertAdt(Hl7Message.parse(read(f)), warm);
    for (const f of files) {
      const cold = { ...warm }; // a new profile object: its cache starts empty
      expect(JSON.stringify(convertAdt(Hl7Message.parse(read(f)), warm).bundle)).toBe(JSON.stringify(convertAdt(Hl7Message.parse(read(f)), cold).bundle));
    }
  });

  it('are one object across Bundles, and a security label on one Bundle does not reach the other', () => {
    const profile = loadProfile();
    const msg = (id: string) => `MSH|^~\\&|EPIC|GH|CB|CB|20240101120000-0500||ADT^A01|${id}|P|2.5.1\rPID|1||M${id}^^^GH^MR||DOE^JANE||19800101|F\rPV1|1|I|W^1^A^GH||||1234567893^SMITH^ANN^^^^MD^^NPI|||PSY`;
    const first = convertAdt(Hl7Message.parse(msg('1')), profile).bundle;
    const second = convertAdt(Hl7Message.parse(msg('2')), profile).bundle;
    const doctor = (b: typeof first) => b.entry!.find((e) => e.resource?.resourceType === 'Practitioner')!.resource as Practitioner;
    expect(doctor(first)).toBe(doctor(second));
    expect(isShared(doctor(first))).toBe(true);

    applySecurityLabels(first, securityLabels('behavioral-health'));
    expect(doctor(first).meta?.security?.length).toBeGreaterThan(0);
    expect(doctor(second).meta).toBeUndefined();
    const again = convertAdt(Hl7Message.parse(msg('3')), profile).bundle;
    expect(doctor(again).meta).toBeUndefined();
    expect(doctor(again).identifier?.[0].value).toBe('1234567893');
    // The labelled copy is what the first Bundle serializes; the shared original stays as it was.
    expect(JSON.stringify(first)).toContain('"security"');
    expect(JSON.stringify(second)).not.toContain('"security"');
  });
});
