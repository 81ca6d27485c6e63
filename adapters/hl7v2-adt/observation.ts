import type { Annotation, CodeableConcept, Encounter, Extension, Identifier, Observation, Patient, Quantity, Reference } from 'fhir/r4';
import type { EI, Segment } from '../../src/hl7v2/index.js';
import { readCWE, readEI, readXON } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode, v2Table } from './codes.js';
import { ref, type ConversionContext } from './context.js';
import { identifierSystem } from './datatypes.js';
import { organizationForFacility, practitionerFromXCN } from './participants.js';

// OBX → Observation per the IG's OBX[Observation] segment map. Used by ADT (height, weight…),
// ORU (results under an OBR) and any other message carrying OBX. See mappings/README.md.

/** Where the observations of one message belong and how their ids are keyed. */
export interface ObservationScope {
  subject: Patient;
  encounter?: Encounter;
  /**
   * Stable key of the group the OBX belongs to: the DiagnosticReport id for ORU (ids then follow
   * OBX-1, so a corrected result replaces the same Observation), the visit or patient for ADT.
   */
  key: string;
  /** `set-id`: OBX-1 + OBX-3 + OBX-4 (result groups); `code-and-time`: OBX-3 + OBX-4 + OBX-14 (ADT). */
  identity: 'set-id' | 'code-and-time';
  /** Fallback for OBX-14, e.g. the order's observation time (OBR-7), already a FHIR dateTime. */
  effective?: string;
}

const UCUM = 'http://unitsofmeasure.org';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
const VALUE_ATTACHMENT = 'https://hl7.org/fhir/5.0/StructureDefinition/extension-Observation.valueAttachment';
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** LOINC codes of the FHIR vital signs profiles: these get category vital-signs. */
const VITAL_SIGNS = new Set([
  '85353-1',
  '9279-1',
  '8867-4',
  '2708-6',
  '59408-5',
  '8310-5',
  '8302-2',
  '9843-4',
  '29463-7',
  '39156-5',
  '85354-9',
  '8480-6',
  '8462-4',
  '3141-9',
  '8306-3',
  '8287-5',
  '3140-1',
]);

/** OBX-11 codes the IG map leaves without a FHIR status (see mappings/README.md). */
const EXTRA_STATUS: Record<string, Observation['status']> = {
  B: 'amended',
  I: 'registered',
  O: 'registered',
  R: 'preliminary',
  S: 'preliminary',
  V: 'final',
  W: 'entered-in-error',
  X: 'cancelled',
  N: 'final',
};
const OBSERVATION_STATUS = new Set([
  'registered',
  'preliminary',
  'final',
  'amended',
  'corrected',
  'cancelled',
  'entered-in-error',
  'unknown',
]);

/**
 * Every OBX among `segments` as an Observation, each with the NTE segments that follow it as
 * notes. Stops at nothing: callers pass the slice of the message that belongs to one group.
 */
export function observationsFrom(ctx: ConversionContext, segments: readonly Segment[], scope: ObservationScope): Observation[] {
  const out: Observation[] = [];
  for (let i = 0; i < segments.length; i++) {
    if (segments[i].name !== 'OBX') continue;
    const notes: Segment[] = [];
    for (let j = i + 1; j < segments.length && segments[j].name === 'NTE'; j++) notes.push(segments[j]);
    const o = buildObservation(ctx, segments[i], scope, notes);
    if (o) out.push(o);
  }
  return out;
}

/** ADT: the message's OBX segments (height, weight, …) as Observations of the patient and visit. */
export function buildObservations(ctx: ConversionContext, patient: Patient, encounter?: Encounter): Observation[] {
  return observationsFrom(ctx, ctx.inScope(), {
    subject: patient,
    encounter,
    key: encounter?.id ?? patient.id!,
    identity: 'code-and-time',
  });
}

/** One OBX → Observation; undefined (with a warning) when OBX-3 names nothing. */
export function buildObservation(
  ctx: ConversionContext,
  obx: Segment,
  scope: ObservationScope,
  notes: readonly Segment[] = [],
): Observation | undefined {
  const where = `OBX-${obx.get(1) || '?'}`;
  const code = codeableConcept(ctx, readCWE(obx, 3));
  if (!code) {
    ctx.warn(`${where}: no observation identifier (OBX-3); segment skipped`);
    return undefined;
  }
  const first = code.coding?.[0];
  const codeKey = first ? `${first.system ?? ''}|${first.code ?? ''}` : `text|${code.text ?? ''}`;
  const parts = scope.identity === 'set-id' ? [scope.key, obx.get(1), codeKey, obx.get(4)] : [scope.key, codeKey, obx.get(4), obx.get(14)];
  const statusCode = obx.get(11);
  const observation: Observation = {
    resourceType: 'Observation',
    id: ctx.idFromParts('Observation', ...parts),
    identifier: instanceIdentifier(ctx, obx),
    status: observationStatus(ctx, statusCode, where),
    category:
      first?.system === 'http://loinc.org' && VITAL_SIGNS.has(first.code ?? '')
        ? [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }] }]
        : undefined,
    code,
    subject: ref(scope.subject),
    encounter: scope.encounter ? ref(scope.encounter) : undefined,
    effectiveDateTime: ctx.dateTime(obx.get(14), `${where}-14`) ?? scope.effective,
    performer: performers(ctx, obx),
    interpretation: interpretations(ctx, obx),
    method: codeableConcept(ctx, readCWE(obx, 17)),
    bodySite: codeableConcept(ctx, readCWE(obx, 20)),
    referenceRange: referenceRange(obx),
    note: notesOf(notes),
  };
  if (statusCode === 'N') observation.dataAbsentReason = { coding: [{ system: DATA_ABSENT, code: 'not-asked', display: 'Not Asked' }] };
  else setValue(ctx, observation, obx, where);
  return ctx.add(observation);
}

function observationStatus(ctx: ConversionContext, code: string, where: string): Observation['status'] {
  if (!code) {
    ctx.warn(`${where}: no result status (OBX-11); status unknown`);
    return 'unknown';
  }
  const mapped = mapCode(ctx, 'ObservationResultStatusCodesInterpretation', code)?.code ?? EXTRA_STATUS[code.toUpperCase()];
  if (mapped && OBSERVATION_STATUS.has(mapped)) return mapped as Observation['status'];
  ctx.warn(`${where}: result status (OBX-11) not in the status map; status unknown`);
  return 'unknown';
}

/** OBX-5 by its value type (OBX-2), per the IG's OBX-5 rows. */
function setValue(ctx: ConversionContext, o: Observation, obx: Segment, where: string): void {
  const reps = obx.repetitions(5);
  if (reps === 0 || (!obx.get(5) && obx.components(5) <= 1)) return;
  let type = obx.get(2).toUpperCase();
  if (!type) {
    // Feeds omit OBX-2 on simple results; a plain (compared) number is read as NM, anything else as ST.
    type = /^\s*(<=|>=|<|>)?\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(obx.get(5)) && reps === 1 ? 'NM' : 'ST';
    ctx.warn(`${where}: no value type (OBX-2); value read as ${type}`);
  }
  const textual = type === 'ST' || type === 'TX' || type === 'FT';
  if (reps > 1 && !textual) ctx.warn(`${where}: OBX-5 repeats; only its first value is kept`);
  switch (type) {
    case 'NM': {
      const q = quantity(obx.get(5), obx);
      if (q) o.valueQuantity = q;
      else {
        o.valueString = obx.get(5);
        ctx.warn(`${where}: numeric value (NM) is not a number; kept as text`);
      }
      return;
    }
    case 'ST':
    case 'TX':
    case 'FT': {
      const lines: string[] = [];
      for (let r = 1; r <= reps; r++) lines.push(obx.get(5, r));
      o.valueString = lines.join('\n');
      return;
    }
    case 'CE':
    case 'CWE':
    case 'CNE':
    case 'CF':
    case 'IS':
    case 'ID':
      o.valueCodeableConcept = codeableConcept(ctx, readCWE(obx, 5));
      return;
    case 'SN':
      structuredNumeric(o, obx);
      return;
    case 'DT':
    case 'DTM':
    case 'TS':
      o.valueDateTime = ctx.dateTime(obx.get(5), `${where}-5`);
      return;
    case 'TM': {
      const t = /^(\d{2})(\d{2})?(\d{2})?(\.\d+)?/.exec(obx.get(5));
      if (t) o.valueTime = `${t[1]}:${t[2] ?? '00'}:${t[3] ?? '00'}${t[4] ?? ''}`;
      return;
    }
    case 'NR': {
      const low = quantity(obx.get(5, 1, 1), obx);
      const high = quantity(obx.get(5, 1, 2), obx);
      if (low || high) o.valueRange = { low, high };
      return;
    }
    case 'DR': {
      const start = ctx.dateTime(obx.get(5, 1, 1), `${where}-5.1`);
      const end = ctx.dateTime(obx.get(5, 1, 2), `${where}-5.2`);
      if (start || end) o.valuePeriod = { start, end };
      return;
    }
    case 'ED':
    case 'RP':
      attachmentValue(ctx, o, obx, type, where);
      return;
    default:
      o.dataAbsentReason = { coding: [{ system: DATA_ABSENT, code: 'unsupported', display: 'Unsupported' }] };
      ctx.warn(`${where}: value type '${type || '(none)'}' (OBX-2) is not mapped; value dropped`);
  }
}

/** A number (with an optional <, >, <=, >= in front) and OBX-6 units as a Quantity. */
function quantity(raw: string, obx: Segment): Quantity | undefined {
  const m = /^\s*(<=|>=|<|>)?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$/.exec(raw);
  if (!m) return undefined;
  const q: Quantity = { value: Number(m[2]), ...units(obx) };
  if (m[1]) q.comparator = m[1] as Quantity['comparator'];
  return q;
}

/** OBX-6 as Quantity unit/system/code: UCUM when CWE-3 says so, else the unit as text only. */
function units(obx: Segment): Pick<Quantity, 'unit' | 'system' | 'code'> {
  const u = readCWE(obx, 6);
  const code = u.code || u.altCode;
  if (!code && !u.text) return {};
  const isUcum = /^UCUM$/i.test(u.system) || (!u.code && /^UCUM$/i.test(u.altSystem));
  return isUcum ? { unit: u.text || code, system: UCUM, code } : { unit: u.text || code };
}

/** SN (comparator^num1^separator^num2): Quantity, Range, Ratio or, failing those, text (IG rows). */
function structuredNumeric(o: Observation, obx: Segment): void {
  const comparator = obx.get(5, 1, 1);
  const n1 = obx.get(5, 1, 2);
  const sep = obx.get(5, 1, 3);
  const n2 = obx.get(5, 1, 4);
  const asText = () => {
    o.valueString = [comparator, n1, sep, n2, readCWE(obx, 6).code].filter(Boolean).join(' ');
  };
  if (comparator === '<>' || !NUMBER.test(n1)) return asText();
  if ((sep === ':' || sep === '/') && NUMBER.test(n2)) {
    o.valueRatio = { numerator: { value: Number(n1), ...units(obx) }, denominator: { value: Number(n2) } };
  } else if (sep === '-' && NUMBER.test(n2)) {
    o.valueRange = { low: { value: Number(n1), ...units(obx) }, high: { value: Number(n2), ...units(obx) } };
  } else if (!sep && !n2) {
    const q = quantity(`${comparator === '=' ? '' : comparator}${n1}`, obx);
    if (q) o.valueQuantity = q;
    else asText();
  } else asText();
}

const MIME_MAJOR: Record<string, string> = {
  AP: 'application',
  APPLICATION: 'application',
  IM: 'image',
  IMAGE: 'image',
  TEXT: 'text',
  AU: 'audio',
  AUDIO: 'audio',
  VIDEO: 'video',
};

/** ED/RP → the R5 valueAttachment extension the IG names (R4 Observation has no valueAttachment). */
function attachmentValue(ctx: ConversionContext, o: Observation, obx: Segment, type: 'ED' | 'RP', where: string): void {
  const attachment = type === 'ED' ? edAttachment(obx) : rpAttachment(obx);
  if (!attachment) {
    ctx.warn(`${where}: ${type} value is not base64 data or a URL; value dropped`);
    return;
  }
  const ext: Extension = { url: VALUE_ATTACHMENT, valueAttachment: attachment };
  o.extension = [...(o.extension ?? []), ext];
}

/** ED (source^type^subtype^encoding^data) as an Attachment, when its data is valid base64. */
export function edAttachment(obx: Segment, field = 5, rep = 1): { contentType?: string; data: string } | undefined {
  const encoding = obx.get(field, rep, 4);
  const data = obx.get(field, rep, 5).replace(/\s+/g, '');
  if (!/^base64$/i.test(encoding) || !data || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return undefined;
  return { contentType: mimeType(obx.get(field, rep, 2), obx.get(field, rep, 3)), data };
}

function rpAttachment(obx: Segment): { url: string; contentType?: string } | undefined {
  const url = obx.get(5, 1, 1);
  if (!/^(https?|ftp|urn):/i.test(url)) return undefined;
  return { url, contentType: mimeType(obx.get(5, 1, 3), obx.get(5, 1, 4)) };
}

/** v2 type of data / subtype (e.g. AP^PDF) as a MIME type, when both are known. */
export function mimeType(type: string, subtype: string): string | undefined {
  const major = MIME_MAJOR[type.toUpperCase()];
  if (!major || !/^[A-Za-z0-9.+-]+$/.test(subtype)) return undefined;
  return `${major}/${subtype.toLowerCase()}`;
}

/** OBX-7 as text, plus low/high when it reads `low-high` (units from OBX-6). */
function referenceRange(obx: Segment): Observation['referenceRange'] {
  const text = obx.get(7);
  if (!text) return undefined;
  const m = /^\s*([+-]?\d+(?:\.\d*)?)\s*-\s*([+-]?\d+(?:\.\d*)?)\s*$/.exec(text);
  if (!m) return [{ text }];
  const u = units(obx);
  return [{ low: { value: Number(m[1]), ...u }, high: { value: Number(m[2]), ...u }, text }];
}

function interpretations(ctx: ConversionContext, obx: Segment): CodeableConcept[] {
  const out: CodeableConcept[] = [];
  for (let r = 1; r <= obx.repetitions(8); r++) {
    const cwe = readCWE(obx, 8, r);
    if (!cwe.code) continue;
    const m = mapCode(ctx, 'InterpretationCodes', cwe.code);
    out.push(
      m
        ? { coding: [{ system: m.system ?? INTERPRETATION, code: m.code, display: m.display }], text: cwe.text || undefined }
        : (codeableConcept(ctx, cwe, v2Table('0078')) ?? { text: cwe.code }),
    );
  }
  return out;
}

/** OBX-16 responsible observers (Practitioner) and OBX-23 performing organization. */
function performers(ctx: ConversionContext, obx: Segment): Reference[] {
  const out: Reference[] = [];
  for (let r = 1; r <= obx.repetitions(16); r++) {
    const p = practitionerFromXCN(ctx, obx, 16, r);
    if (p) out.push(ref(p));
  }
  const org = readXON(obx, 23);
  const o = organizationForFacility(ctx, org.idNumber || org.name, org.assigningAuthority.universalId);
  if (o) out.push(ref(o, org.name || undefined));
  return out;
}

/** OBX-21 observation instance identifier (filler-assigned). */
function instanceIdentifier(ctx: ConversionContext, obx: Segment): Identifier[] | undefined {
  const id = identifierFromEI(ctx, readEI(obx, 21), 'observation', 'FILL');
  return id ? [id] : undefined;
}

/**
 * EI (order, appointment, document or observation number) → Identifier. The system comes from
 * the EI's namespace like any assigning authority; an EI without one is scoped to the sending
 * facility under `kind`. `typeCode` is a v2-0203 code (PLAC, FILL, …).
 */
export function identifierFromEI(ctx: ConversionContext, ei: EI, kind: string, typeCode?: string): Identifier | undefined {
  if (!ei.entityId) return undefined;
  const system =
    ei.namespaceId || ei.universalId ? identifierSystem(ctx, ei) : ctx.localSystem(kind, ctx.msg.msh.get(4) || ctx.msg.msh.get(3));
  const id: Identifier = { system, value: ei.entityId };
  if (typeCode) id.type = { coding: [{ system: v2Table('0203'), code: typeCode }] };
  return id;
}

/** NTE-3 comments (repetitions are lines) as notes. */
export function notesOf(notes: readonly Segment[]): Annotation[] {
  const out: Annotation[] = [];
  for (const nte of notes) {
    const lines: string[] = [];
    for (let r = 1; r <= nte.repetitions(3); r++) lines.push(nte.get(3, r));
    const text = lines.join('\n').trim();
    if (text) out.push({ text });
  }
  return out;
}
