import type { Delimiters } from './delimiters.js';
import { unescapeValue } from './escape.js';
import type { Segment } from './segment.js';

/** Decoded leaf of a raw piece: the explicit null "" reads as empty, like Segment.get. */
function leaf(raw: string | undefined, d: Delimiters): string {
  if (!raw || raw === '""') return '';
  return unescapeValue(raw, d);
}

/** Components of one field repetition, split once; c(i) and s(i, j) are 1-based and decoded. */
class Parts {
  constructor(
    private readonly comps: string[],
    private readonly d: Delimiters,
  ) {}
  c(i: number): string {
    const raw = this.comps[i - 1];
    if (!raw) return '';
    const cut = raw.indexOf(this.d.subcomponent);
    return leaf(cut < 0 ? raw : raw.slice(0, cut), this.d);
  }
  s(i: number, j: number): string {
    const raw = this.comps[i - 1];
    if (!raw) return '';
    if (j === 1) return this.c(i);
    return leaf(raw.split(this.d.subcomponent)[j - 1], this.d);
  }
  hd(i: number): HD {
    return { namespaceId: this.s(i, 1), universalId: this.s(i, 2), universalIdType: this.s(i, 3) };
  }
}

function parts(seg: Segment, field: number, rep: number): Parts {
  return new Parts(seg.rawComponents(field, rep), seg.delimiters);
}

/**
 * Typed readers for the composite data types the ADT mapping needs. Each reads one repetition
 * of one field; absent components are ''. Composite components (e.g. CX-4 as HD) are read from
 * subcomponents, as the standard places them.
 */

export interface HD {
  namespaceId: string;
  universalId: string;
  universalIdType: string;
}

export interface CX {
  id: string;
  checkDigit: string;
  checkDigitScheme: string;
  assigningAuthority: HD;
  identifierTypeCode: string;
  assigningFacility: HD;
  effectiveDate: string;
  expirationDate: string;
}

export interface XPN {
  family: string;
  given: string;
  /** Second and further given names or initials (XPN-3). */
  middle: string;
  suffix: string;
  prefix: string;
  degree: string;
  nameTypeCode: string;
  effectiveDate: string;
  expirationDate: string;
  professionalSuffix: string;
}

export interface XAD {
  street: string;
  otherDesignation: string;
  city: string;
  state: string;
  zip: string;
  country: string;
  addressType: string;
  otherGeographic: string;
  county: string;
  effectiveDate: string;
  expirationDate: string;
}

export interface XTN {
  /** XTN-1, the deprecated formatted number; still what most feeds send. */
  number: string;
  useCode: string;
  equipmentType: string;
  email: string;
  countryCode: string;
  areaCode: string;
  localNumber: string;
  extension: string;
  anyText: string;
  unformatted: string;
}

export interface XCN {
  id: string;
  family: string;
  given: string;
  middle: string;
  suffix: string;
  prefix: string;
  degree: string;
  sourceTable: string;
  assigningAuthority: HD;
  nameTypeCode: string;
  identifierTypeCode: string;
}

export interface CWE {
  code: string;
  text: string;
  system: string;
  altCode: string;
  altText: string;
  altSystem: string;
  systemVersion: string;
  altSystemVersion: string;
  originalText: string;
}

export interface XON {
  name: string;
  typeCode: string;
  /** XON-10 organization identifier, or the deprecated XON-3 id number. */
  idNumber: string;
  assigningAuthority: HD;
  identifierTypeCode: string;
}

/** EI: an entity id with the namespace (HD) that assigned it, e.g. an order or document number. */
export interface EI {
  entityId: string;
  namespaceId: string;
  universalId: string;
  universalIdType: string;
}

export interface TS {
  /** The DTM text as sent, e.g. 20240501083000-0500. */
  value: string;
  /** TS-2 degree of precision, when sent (v2.5 and earlier). */
  precision: string;
}

/** Reads an HD from a whole field repetition (components) of a segment. */
export function readHD(seg: Segment, field: number, rep = 1): HD {
  const p = parts(seg, field, rep);
  return { namespaceId: p.c(1), universalId: p.c(2), universalIdType: p.c(3) };
}

/** Reads an HD embedded as one component (its parts are subcomponents). */
export function readHDComponent(seg: Segment, field: number, rep: number, comp: number): HD {
  return {
    namespaceId: seg.get(field, rep, comp, 1),
    universalId: seg.get(field, rep, comp, 2),
    universalIdType: seg.get(field, rep, comp, 3),
  };
}

export function readCX(seg: Segment, field: number, rep = 1): CX {
  const p = parts(seg, field, rep);
  return {
    id: p.c(1),
    checkDigit: p.c(2),
    checkDigitScheme: p.c(3),
    assigningAuthority: p.hd(4),
    identifierTypeCode: p.c(5),
    assigningFacility: p.hd(6),
    effectiveDate: p.c(7),
    expirationDate: p.c(8),
  };
}

export function readXPN(seg: Segment, field: number, rep = 1): XPN {
  const p = parts(seg, field, rep);
  return {
    family: p.c(1),
    given: p.c(2),
    middle: p.c(3),
    suffix: p.c(4),
    prefix: p.c(5),
    degree: p.c(6),
    nameTypeCode: p.c(7),
    effectiveDate: p.c(12),
    expirationDate: p.c(13),
    professionalSuffix: p.c(14),
  };
}

export function readXAD(seg: Segment, field: number, rep = 1): XAD {
  const p = parts(seg, field, rep);
  return {
    street: p.c(1),
    otherDesignation: p.c(2),
    city: p.c(3),
    state: p.c(4),
    zip: p.c(5),
    country: p.c(6),
    addressType: p.c(7),
    otherGeographic: p.c(8),
    county: p.c(9),
    effectiveDate: p.c(13),
    expirationDate: p.c(14),
  };
}

export function readXTN(seg: Segment, field: number, rep = 1): XTN {
  const p = parts(seg, field, rep);
  return {
    number: p.c(1),
    useCode: p.c(2),
    equipmentType: p.c(3),
    email: p.c(4),
    countryCode: p.c(5),
    areaCode: p.c(6),
    localNumber: p.c(7),
    extension: p.c(8),
    anyText: p.c(9),
    unformatted: p.c(12),
  };
}

export function readXCN(seg: Segment, field: number, rep = 1): XCN {
  const p = parts(seg, field, rep);
  return {
    id: p.c(1),
    family: p.c(2),
    given: p.c(3),
    middle: p.c(4),
    suffix: p.c(5),
    prefix: p.c(6),
    degree: p.c(7),
    sourceTable: p.c(8),
    assigningAuthority: p.hd(9),
    nameTypeCode: p.c(10),
    identifierTypeCode: p.c(13),
  };
}

export function readXON(seg: Segment, field: number, rep = 1): XON {
  const p = parts(seg, field, rep);
  return {
    name: p.c(1),
    typeCode: p.c(2),
    idNumber: p.c(10) || p.c(3),
    assigningAuthority: p.hd(6),
    identifierTypeCode: p.c(7),
  };
}

/** CWE, CE, CNE and CF share this layout for the parts the mapping uses. */
export function readCWE(seg: Segment, field: number, rep = 1): CWE {
  return readCWEAt(seg, field, rep, 0);
}

/**
 * Reads a CWE that is one component of a larger type (e.g. XAD-9 county): its parts are then
 * subcomponents. `comp` 0 means the CWE is the whole field.
 */
export function readCWEAt(seg: Segment, field: number, rep: number, comp: number): CWE {
  const p = parts(seg, field, rep);
  const at = (i: number) => (comp === 0 ? p.c(i) : p.s(comp, i));
  return {
    code: at(1),
    text: at(2),
    system: at(3),
    altCode: at(4),
    altText: at(5),
    altSystem: at(6),
    systemVersion: at(7),
    altSystemVersion: at(8),
    originalText: at(9),
  };
}

export function readEI(seg: Segment, field: number, rep = 1): EI {
  const p = parts(seg, field, rep);
  return { entityId: p.c(1), namespaceId: p.c(2), universalId: p.c(3), universalIdType: p.c(4) };
}

/** TS (DTM + degree of precision) or a plain DTM field. The DTM is the first subcomponent-free component. */
export function readTS(seg: Segment, field: number, rep = 1): TS {
  const p = parts(seg, field, rep);
  return { value: p.c(1), precision: p.c(2) };
}

export const isEmptyHD = (h: HD): boolean => !h.namespaceId && !h.universalId;
