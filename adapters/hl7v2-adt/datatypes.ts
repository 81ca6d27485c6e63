import type { Address, ContactPoint, HumanName, Identifier, Period } from 'fhir/r4';
import type { CX, HD, Segment, XAD, XPN, XTN } from '../../src/hl7v2/index.js';
import { readCX, readXAD, readXPN, readXTN } from '../../src/hl7v2/index.js';
import { mapCode, OID, URI, v2Table } from './codes.js';
import type { ConversionContext } from './context.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Identifier system for an assigning authority: the profile's table by namespace id or
 * universal id, an OID as urn:oid:, a UUID as urn:uuid:, a URI as is, then the identifier
 * type's system, and finally a stable URN under the partner namespace. Never empty.
 */
export function identifierSystem(ctx: ConversionContext, authority: HD, typeCode = ''): string {
  const systems = ctx.profile.identifierSystems;
  const byName = (authority.namespaceId && systems[authority.namespaceId]) || (authority.universalId && systems[authority.universalId]);
  if (byName) return byName;
  const uid = authority.universalId;
  if (uid) {
    if (OID.test(uid)) return `urn:oid:${uid}`;
    if (UUID.test(uid)) return `urn:uuid:${uid.toLowerCase()}`;
    if (URI.test(uid)) return uid;
  }
  if (OID.test(authority.namespaceId)) return `urn:oid:${authority.namespaceId}`;
  const byType = typeCode && ctx.profile.identifierTypeSystems[typeCode];
  if (byType) return byType;
  return ctx.localSystem('id', authority.namespaceId || uid || typeCode || 'unknown');
}

function period(ctx: ConversionContext, start: string, end: string, where: string): Period | undefined {
  const p: Period = {};
  const s = ctx.dateTime(start, where);
  const e = ctx.dateTime(end, where);
  if (s) p.start = s;
  if (e) p.end = e;
  return p.start || p.end ? p : undefined;
}

export function identifierFromCX(ctx: ConversionContext, cx: CX, where: string): Identifier | undefined {
  const value = cx.id.trim();
  if (!value) return undefined;
  const rule = ctx.profile.identifierRules.find(
    (r) => r.authority === cx.assigningAuthority.namespaceId || r.authority === cx.assigningAuthority.universalId,
  );
  const typeCode = rule?.type ?? cx.identifierTypeCode;
  const id: Identifier = {
    system: rule?.system ?? identifierSystem(ctx, cx.assigningAuthority, typeCode),
    value,
  };
  if (typeCode) id.type = { coding: [{ system: v2Table('0203'), code: typeCode }] };
  const p = period(ctx, cx.effectiveDate, cx.expirationDate, where);
  if (p) id.period = p;
  const assigner = cx.assigningAuthority.namespaceId;
  if (assigner && !OID.test(assigner)) id.assigner = { display: assigner };
  return id;
}

/** All repetitions of a CX field as identifiers (repetitions without an id are skipped). */
export function identifiersFromField(ctx: ConversionContext, seg: Segment | undefined, field: number, where: string): Identifier[] {
  if (!seg) return [];
  const out: Identifier[] = [];
  const n = seg.repetitions(field);
  for (let r = 1; r <= n; r++) {
    const id = identifierFromCX(ctx, readCX(seg, field, r), where);
    if (id) out.push(id);
  }
  return out;
}

export function humanName(ctx: ConversionContext, x: XPN, where: string): HumanName | undefined {
  const given = [x.given, ...x.middle.split(/\s+/)].filter(Boolean);
  if (!x.family && given.length === 0) return undefined;
  const use = mapCode(ctx, 'NameType', x.nameTypeCode)?.code;
  return {
    use: NAME_USES.has(use ?? '') ? (use as HumanName['use']) : undefined,
    family: x.family || undefined,
    given,
    prefix: x.prefix ? [x.prefix] : undefined,
    suffix: [x.suffix, x.degree, x.professionalSuffix].filter(Boolean),
    period: period(ctx, x.effectiveDate, x.expirationDate, where),
  };
}
const NAME_USES = new Set(['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden']);

export function namesFromField(ctx: ConversionContext, seg: Segment | undefined, field: number, where: string): HumanName[] {
  if (!seg) return [];
  const out: HumanName[] = [];
  for (let r = 1; r <= seg.repetitions(field); r++) {
    const n = humanName(ctx, readXPN(seg, field, r), where);
    if (n) out.push(n);
  }
  return out;
}

export function address(ctx: ConversionContext, x: XAD, where: string): Address | undefined {
  if (!x.street && !x.city && !x.state && !x.zip && !x.country) return undefined;
  const use = mapCode(ctx, 'AddressType[Use]', x.addressType)?.code;
  const type = mapCode(ctx, 'AddressType[Type]', x.addressType)?.code;
  return {
    use: ADDRESS_USES.has(use ?? '') ? (use as Address['use']) : undefined,
    type: ADDRESS_TYPES.has(type ?? '') ? (type as Address['type']) : undefined,
    line: [x.street, x.otherDesignation].filter(Boolean),
    city: x.city || undefined,
    district: x.county || undefined,
    state: x.state || undefined,
    postalCode: x.zip || undefined,
    country: x.country || undefined,
    period: period(ctx, x.effectiveDate, x.expirationDate, where),
  };
}
const ADDRESS_USES = new Set(['home', 'work', 'temp', 'old', 'billing']);
const ADDRESS_TYPES = new Set(['postal', 'physical', 'both']);

export function addressesFromField(ctx: ConversionContext, seg: Segment | undefined, field: number, where: string): Address[] {
  if (!seg) return [];
  const out: Address[] = [];
  for (let r = 1; r <= seg.repetitions(field); r++) {
    const a = address(ctx, readXAD(seg, field, r), where);
    if (a) out.push(a);
  }
  return out;
}

const EQUIPMENT_SYSTEM: Record<string, ContactPoint['system']> = {
  PH: 'phone',
  CP: 'phone',
  FX: 'fax',
  BP: 'pager',
  INTERNET: 'email',
  'X.400': 'email',
  MD: 'other',
  TDD: 'other',
  TTY: 'other',
  SAT: 'phone',
};
const CONTACT_USES = new Set(['home', 'work', 'temp', 'old', 'mobile']);

/** XTN → ContactPoint; `fallbackUse` is home for PID-13 and work for PID-14. */
export function contactPoint(ctx: ConversionContext, x: XTN, fallbackUse: ContactPoint['use']): ContactPoint | undefined {
  const equipment = x.equipmentType.toUpperCase();
  let system = EQUIPMENT_SYSTEM[equipment];
  let value: string;
  if (x.email && (system === 'email' || !system || x.useCode === 'NET')) {
    system = 'email';
    value = x.email;
  } else if (x.unformatted) value = x.unformatted;
  else if (x.localNumber) value = formatPhone(x);
  else value = x.number;
  if (!value) return undefined;
  if (!system) system = value.includes('@') ? 'email' : 'phone';
  const mapped = mapCode(ctx, 'TelecommunicationUseCode', x.useCode)?.code;
  let use: ContactPoint['use'] | undefined = CONTACT_USES.has(mapped ?? '') ? (mapped as ContactPoint['use']) : undefined;
  if (equipment === 'CP') use = 'mobile';
  if (!use && system !== 'email') use = fallbackUse;
  return { system, value, use };
}

function formatPhone(x: XTN): string {
  const local = x.localNumber.replace(/\D/g, '');
  const pretty = local.length === 7 ? `${local.slice(0, 3)}-${local.slice(3)}` : x.localNumber;
  let s = x.areaCode ? `(${x.areaCode}) ${pretty}` : pretty;
  if (x.countryCode && x.countryCode !== '1') s = `+${x.countryCode} ${s}`;
  if (x.extension) s += ` ext. ${x.extension}`;
  return s;
}

export function telecomFromField(
  ctx: ConversionContext,
  seg: Segment | undefined,
  field: number,
  fallbackUse: ContactPoint['use'],
): ContactPoint[] {
  if (!seg) return [];
  const out: ContactPoint[] = [];
  for (let r = 1; r <= seg.repetitions(field); r++) {
    const c = contactPoint(ctx, readXTN(seg, field, r), fallbackUse);
    if (c) out.push(c);
  }
  return out;
}
