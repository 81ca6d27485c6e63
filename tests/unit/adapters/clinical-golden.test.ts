import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { CLINICAL_ADAPTERS } from '../../../adapters/clinical.js';
import type { MessageAdapter } from '../../../src/conversion/types.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';
import { assertUsCorePatient, errorsOf, formatIssues, validateWithBoth } from '../../helpers/validate-fhir.js';

const ROOT = join(import.meta.dirname, '../../../fixtures');
const profile = loadProfile();

/** Fixture folder → the adapter id that converts it. Regenerate with UPDATE_GOLDEN=1 and review the diff. */
const FOLDERS: Record<string, string> = { oru: 'hl7v2-oru', siu: 'hl7v2-siu', mdm: 'hl7v2-mdm' };

function adapter(id: string): MessageAdapter {
  const a = CLINICAL_ADAPTERS.find((x) => x.id === id);
  if (!a) throw new Error(`no adapter ${id}`);
  return a;
}

export function convertClinicalFixture(folder: string, name: string) {
  const msg = Hl7Message.parse(readFileSync(join(ROOT, 'hl7v2', folder, name)));
  return adapter(FOLDERS[folder]).convert(msg, profile);
}

for (const [folder, id] of Object.entries(FOLDERS)) {
  describe(`${id}: golden files (fixtures/hl7v2/${folder} → fixtures/fhir/${folder})`, () => {
    const files = existsSync(join(ROOT, 'hl7v2', folder))
      ? readdirSync(join(ROOT, 'hl7v2', folder))
          .filter((f) => f.endsWith('.hl7'))
          .sort()
      : [];
    it('has fixtures', () => expect(files.length).toBeGreaterThan(0));
    for (const file of files) {
      it(`${file} matches its golden Bundle and validates`, () => {
        const converted = convertClinicalFixture(folder, file);
        expect(converted.adapterId).toBe(id);
        const bundle = JSON.parse(JSON.stringify(converted.bundle)) as Bundle;
        const golden = join(ROOT, 'fhir', folder, file.replace(/\.hl7$/, '.json'));
        if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, JSON.stringify(bundle, null, 2) + '\n');
        expect(bundle).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
        const errors = errorsOf(validateWithBoth(bundle));
        expect(errors, formatIssues(errors)).toEqual([]);
        for (const e of bundle.entry ?? []) {
          const own = errorsOf(validateWithBoth(e.resource!));
          expect(own, `${e.resource!.resourceType}: ${formatIssues(own)}`).toEqual([]);
          if (e.resource!.resourceType === 'Patient') assertUsCorePatient(e.resource!);
        }
        expect(converted.warnings.filter((w) => !w.startsWith('PV1-19'))).toEqual([]);
      });
    }
  });
}
