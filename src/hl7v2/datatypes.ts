import type { Segment } from './segment.js';

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

export interface TS {
  /** The DTM text as sent, e.g. 20240501083000-0500. */
  value: string;
  /** TS-2 degree of precision, when sent (v2.5 and earlier). */
  precision: string;
}

/** Reads an HD from a whole field repetition (components) of a segment. */
export function readHD(seg: Segment, field: number, rep = 1): HD {
  return {
    namespaceId: seg.get(field, rep, 1),
    universalId: seg.get(field, rep, 2),
    universalIdType: seg.get(field, rep, 3),
  };
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
  return {
    id: seg.get(field, rep, 1),
    checkDigit: seg.get(field, rep, 2),
    checkDigitScheme: seg.get(field, rep, 3),
    assigningAuthority: readHDComponent(seg, field, rep, 4),
    identifierTypeCode: seg.get(field, rep, 5),
    assigningFacility: readHDComponent(seg, field, rep, 6),
    effectiveDate: seg.get(field, rep, 7),
    expirationDate: seg.get(field, rep, 8),
  };
}

export function readXPN(seg: Segment, field: number, rep = 1): XPN {
  return {
    family: seg.get(field, rep, 1, 1),
    given: seg.get(field, rep, 2),
    middle: seg.get(field, rep, 3),
    suffix: seg.get(field, rep, 4),
    prefix: seg.get(field, rep, 5),
    degree: seg.get(field, rep, 6),
    nameTypeCode: seg.get(field, rep, 7),
    effectiveDate: seg.get(field, rep, 12, 1),
    expirationDate: seg.get(field, rep, 13, 1),
    professionalSuffix: seg.get(field, rep, 14),
  };
}

export function readXAD(seg: Segment, field: number, rep = 1): XAD {
  return {
    street: seg.get(field, rep, 1, 1),
    otherDesignation: seg.get(field, rep, 2),
    city: seg.get(field, rep, 3),
    state: seg.get(field, rep, 4),
    zip: seg.get(field, rep, 5),
    country: seg.get(field, rep, 6),
    addressType: seg.get(field, rep, 7),
    otherGeographic: seg.get(field, rep, 8),
    county: seg.get(field, rep, 9, 1),
    effectiveDate: seg.get(field, rep, 13, 1),
    expirationDate: seg.get(field, rep, 14, 1),
  };
}

export function readXTN(seg: Segment, field: number, rep = 1): XTN {
  return {
    number: seg.get(field, rep, 1),
    useCode: seg.get(field, rep, 2),
    equipmentType: seg.get(field, rep, 3),
    email: seg.get(field, rep, 4),
    countryCode: seg.get(field, rep, 5),
    areaCode: seg.get(field, rep, 6),
    localNumber: seg.get(field, rep, 7),
    extension: seg.get(field, rep, 8),
    anyText: seg.get(field, rep, 9),
    unformatted: seg.get(field, rep, 12),
  };
}

export function readXCN(seg: Segment, field: number, rep = 1): XCN {
  return {
    id: seg.get(field, rep, 1),
    family: seg.get(field, rep, 2, 1),
    given: seg.get(field, rep, 3),
    middle: seg.get(field, rep, 4),
    suffix: seg.get(field, rep, 5),
    prefix: seg.get(field, rep, 6),
    degree: seg.get(field, rep, 7),
    sourceTable: seg.get(field, rep, 8),
    assigningAuthority: readHDComponent(seg, field, rep, 9),
    nameTypeCode: seg.get(field, rep, 10),
    identifierTypeCode: seg.get(field, rep, 13),
  };
}

export function readXON(seg: Segment, field: number, rep = 1): XON {
  return {
    name: seg.get(field, rep, 1),
    typeCode: seg.get(field, rep, 2),
    idNumber: seg.get(field, rep, 10) || seg.get(field, rep, 3),
    assigningAuthority: readHDComponent(seg, field, rep, 6),
    identifierTypeCode: seg.get(field, rep, 7),
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
  const at = (i: number) => (comp === 0 ? seg.get(field, rep, i) : seg.get(field, rep, comp, i));
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

/** TS (DTM + degree of precision) or a plain DTM field. The DTM is the first subcomponent-free component. */
export function readTS(seg: Segment, field: number, rep = 1): TS {
  return { value: seg.get(field, rep, 1), precision: seg.get(field, rep, 2) };
}

export const isEmptyHD = (h: HD): boolean => !h.namespaceId && !h.universalId;
