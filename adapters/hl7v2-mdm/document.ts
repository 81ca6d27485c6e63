import type {
  Attachment,
  CodeableConcept,
  Coding,
  DocumentReference,
  DocumentReferenceContent,
  Encounter,
  Patient,
  Reference,
} from 'fhir/r4';
import type { Segment } from '../../src/hl7v2/index.js';
import { readCWE, readEI } from '../../src/hl7v2/index.js';
import { codeableConcept, mapCode, v2Table } from '../hl7v2-adt/codes.js';
import { ref, type ConversionContext } from '../hl7v2-adt/context.js';
import { edAttachment, identifierFromEI, mimeType } from '../hl7v2-adt/observation.js';
import { practitionerFromXCN } from '../hl7v2-adt/participants.js';

// TXA + OBX → DocumentReference per the IG's TXA[DocumentReference] and OBX[DocumentReference]
// maps; the choices where the IG is silent or maps to invalid R4 codes are in mappings/README.md.

/** v2 table 0270 document types with their LOINC document codes (what FHIR receivers query by). */
const LOINC_DOCUMENT_TYPE: Record<string, [string, string]> = {
  DS: ['18842-5', 'Discharge summary'],
  HP: ['34117-2', 'History and physical note'],
  CN: ['11488-4', 'Consult note'],
  PR: ['11506-3', 'Progress note'],
  PN: ['28570-0', 'Procedure note'],
  OP: ['11504-8', 'Surgical operation note'],
  TS: ['18761-7', 'Transfer summary note'],
  SP: ['11526-1', 'Pathology study'],
  DI: ['18748-4', 'Diagnostic imaging study'],
};
const CLINICAL_NOTE = {
  coding: [
    {
      system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category',
      code: 'clinical-note',
      display: 'Clinical Note',
    },
  ],
};
/** TXA-17 completion status (v2 0271) → composition status; edits of a final document are amendments. */
const FINAL_COMPLETION = new Set(['AU', 'LA']);
const PRELIMINARY_COMPLETION = new Set(['DI', 'DO', 'IN', 'IP', 'PA']);
const EDIT_EVENTS = new Set(['T07', 'T08']);
const ADDENDUM_EVENTS = new Set(['T05', 'T06']);
const REPLACEMENT_EVENTS = new Set(['T09', 'T10']);

export function buildDocumentReference(
  ctx: ConversionContext,
  txa: Segment,
  patient: Patient,
  encounter: Encounter | undefined,
): DocumentReference {
  const event = ctx.msg.triggerEvent;
  const master = identifierFromEI(ctx, readEI(txa, 12), 'document');
  const fileName = txa.get(16);
  const fileId = fileName
    ? { system: ctx.localSystem('document-file', ctx.msg.msh.get(4) || ctx.msg.msh.get(3)), value: fileName }
    : undefined;
  const key = master ?? fileId;
  if (!key) ctx.warn('TXA-12: no unique document number; DocumentReference id derived from patient, type and time');
  const type = documentType(ctx, txa);
  const title = txa.get(25) || readCWE(txa, 2).text || undefined;
  const date = ctx.instant(txa.get(6), 'TXA-6') ?? ctx.instant(txa.get(4), 'TXA-4');
  const doc: DocumentReference = {
    resourceType: 'DocumentReference',
    id: key
      ? ctx.idFor('DocumentReference', key.system!, key.value!)
      : ctx.idFromParts('DocumentReference', patient.id!, txa.get(2), txa.get(6) || txa.get(4)),
    masterIdentifier: master,
    identifier: fileId ? [fileId] : undefined,
    status: documentStatus(event, txa.get(19)),
    docStatus: compositionStatus(event, txa.get(17)),
    type,
    category: [CLINICAL_NOTE],
    subject: ref(patient),
    date,
    author: authors(ctx, txa),
    authenticator: practitionerRef(ctx, txa, 10),
    relatesTo: relatesTo(ctx, txa, event),
    description: txa.get(25) || undefined,
    securityLabel: securityLabel(ctx, txa.get(18)),
    content: content(ctx, title),
    context: encounter ? { encounter: [ref(encounter)] } : undefined,
  };
  return ctx.add(doc);
}

function documentType(ctx: ConversionContext, txa: Segment): CodeableConcept | undefined {
  const cwe = readCWE(txa, 2);
  const cc = codeableConcept(ctx, cwe, v2Table('0270'));
  const loinc = (!cwe.system || /^HL70270$/i.test(cwe.system)) && LOINC_DOCUMENT_TYPE[cwe.code.toUpperCase()];
  if (!cc || !loinc) return cc;
  const coding: Coding[] = [{ system: 'http://loinc.org', code: loinc[0], display: loinc[1] }, ...(cc.coding ?? [])];
  return { ...cc, coding };
}

/** T11 and TXA-19 CA (canceled) withdraw the document; OB (obsolete) is superseded; otherwise current. */
function documentStatus(event: string, availability: string): DocumentReference['status'] {
  const a = availability.toUpperCase();
  if (event === 'T11' || a === 'CA') return 'entered-in-error';
  if (a === 'OB') return 'superseded';
  return 'current';
}

function compositionStatus(event: string, completion: string): DocumentReference['docStatus'] {
  const c = completion.toUpperCase();
  if (event === 'T11') return 'entered-in-error';
  if (FINAL_COMPLETION.has(c)) return EDIT_EVENTS.has(event) ? 'amended' : 'final';
  if (PRELIMINARY_COMPLETION.has(c)) return 'preliminary';
  return undefined;
}

function practitionerRef(ctx: ConversionContext, txa: Segment, field: number): Reference | undefined {
  const p = practitionerFromXCN(ctx, txa, field);
  return p ? ref(p) : undefined;
}

/** TXA-9 originators; TXA-5 (primary activity provider) when no originator is named. */
function authors(ctx: ConversionContext, txa: Segment): Reference[] {
  const out: Reference[] = [];
  for (const field of [9, 5]) {
    for (let r = 1; r <= txa.repetitions(field); r++) {
      const p = practitionerFromXCN(ctx, txa, field, r);
      if (p) out.push(ref(p));
    }
    if (out.length) break;
  }
  return out;
}

/** TXA-13 parent document: appended to by an addendum (T05/T06), replaced by a replacement (T09/T10). */
function relatesTo(ctx: ConversionContext, txa: Segment, event: string): DocumentReference['relatesTo'] {
  const code = ADDENDUM_EVENTS.has(event) ? 'appends' : REPLACEMENT_EVENTS.has(event) ? 'replaces' : undefined;
  const parent = identifierFromEI(ctx, readEI(txa, 13), 'document');
  if (!code || !parent) return undefined;
  return [{ code, target: { type: 'DocumentReference', identifier: parent } }];
}

function securityLabel(ctx: ConversionContext, code: string): CodeableConcept[] | undefined {
  if (!code) return undefined;
  const m = mapCode(ctx, 'DocumentConfidentialityStatus', code);
  return [m ? { coding: [{ system: m.system, code: m.code, display: m.display }] } : { coding: [{ system: v2Table('0272'), code }] }];
}

/**
 * The document body from the OBX segments: every text OBX (TX, FT, ST) in order as one
 * text/plain attachment, each ED as its own attachment, each RP as a URL. A notification
 * without content (T01, T03, …) still needs one content entry in R4: the title alone.
 */
function content(ctx: ConversionContext, title: string | undefined): DocumentReferenceContent[] {
  const lines: string[] = [];
  const out: DocumentReferenceContent[] = [];
  for (const obx of ctx.msg.segmentsNamed('OBX')) {
    const type = obx.get(2).toUpperCase();
    if (type === 'TX' || type === 'FT' || type === 'ST') {
      for (let r = 1; r <= obx.repetitions(5); r++) lines.push(obx.get(5, r));
    } else if (type === 'ED') {
      const a = edAttachment(obx);
      if (a) out.push({ attachment: { ...a, title } });
      else ctx.warn(`OBX-${obx.get(1) || '?'}: ED document content is not base64 data; not included`);
    } else if (type === 'RP' && /^(https?|ftp|urn):/i.test(obx.get(5, 1, 1))) {
      out.push({ attachment: { url: obx.get(5, 1, 1), contentType: mimeType(obx.get(5, 1, 3), obx.get(5, 1, 4)), title } });
    } else if (type) {
      ctx.warn(`OBX-${obx.get(1) || '?'}: value type '${type}' is not document content; not included`);
    }
  }
  if (lines.length) out.unshift({ attachment: textAttachment(lines.join('\n'), title) });
  return out.length ? out : [{ attachment: { title: title ?? 'document' } }];
}

function textAttachment(text: string, title: string | undefined): Attachment {
  return { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text, 'utf8').toString('base64'), title };
}
