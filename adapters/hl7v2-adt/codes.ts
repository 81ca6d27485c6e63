import type { CodeableConcept, Coding } from 'fhir/r4';
import type { CWE } from '../../src/hl7v2/index.js';
import { baseConceptMaps } from '../../src/mapping/concept-maps.js';
import type { ConversionContext } from './context.js';

export interface MappedCode {
  code: string;
  system?: string;
  display?: string;
}

/**
 * Looks a v2 code up in a concept map: the partner profile's override first, then the
 * HL7 v2-to-FHIR IG map of that name. Case-insensitive fallback because feeds vary.
 */
export function mapCode(ctx: ConversionContext, map: string, code: string): MappedCode | undefined {
  if (!code) return undefined;
  const over = ctx.profile.conceptMaps[map];
  const hit = over?.[code] ?? over?.[code.toUpperCase()];
  if (hit) return hit;
  return baseConceptMaps().get(map)?.translate(code);
}

export const v2Table = (table: string): string => `http://terminology.hl7.org/CodeSystem/v2-${table}`;

/** An ISO object identifier (HD universal id type ISO), e.g. 2.16.840.1.113883.4.6. */
export const OID = /^\d+(\.\d+)+$/;
/** Already an absolute URI we can use as a system or endpoint. */
export const URI = /^(https?:\/\/|urn:)/i;

/** CWE-3 coding system name → URI (profile table, HL7nnnn tables, OIDs, URIs, else a local URN). */
export function codingSystem(ctx: ConversionContext, name: string): string | undefined {
  if (!name) return undefined;
  const known = ctx.profile.codingSystems[name] ?? ctx.profile.codingSystems[name.toUpperCase()];
  if (known) return known;
  const table = /^HL7(\d{4})$/i.exec(name);
  if (table) return v2Table(table[1]);
  if (OID.test(name)) return `urn:oid:${name}`;
  if (URI.test(name)) return name;
  return ctx.localSystem('codesystem', name);
}

/** CWE/CE → CodeableConcept with both the primary and the alternate coding. */
export function codeableConcept(ctx: ConversionContext, cwe: CWE, defaultSystem?: string): CodeableConcept | undefined {
  const coding: Coding[] = [];
  if (cwe.code)
    coding.push(clean({ system: codingSystem(ctx, cwe.system) ?? defaultSystem, code: cwe.code, display: cwe.text || undefined }));
  if (cwe.altCode) coding.push(clean({ system: codingSystem(ctx, cwe.altSystem), code: cwe.altCode, display: cwe.altText || undefined }));
  const text = cwe.originalText || cwe.text || (coding.length === 0 ? cwe.altText : '');
  if (coding.length === 0 && !text) return undefined;
  const cc: CodeableConcept = {};
  if (coding.length) cc.coding = coding;
  if (text) cc.text = text;
  return cc;
}

/** A v2 table-coded value (IS/ID) as a CodeableConcept in the v2 table's system. */
export function tableConcept(code: string, table: string, display?: string): CodeableConcept | undefined {
  if (!code) return undefined;
  return { coding: [clean({ system: v2Table(table), code, display })] };
}

function clean(c: Coding): Coding {
  const out: Coding = {};
  if (c.system) out.system = c.system;
  if (c.code) out.code = c.code;
  if (c.display) out.display = c.display;
  return out;
}
