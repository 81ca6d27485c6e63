/**
 * Turns an assembled 834 member (loops 2000/2100A/2300/2310/2750) into a MemberRecord as the
 * partner layout says: which REF or NM1 gives the member id, which REF qualifiers are which
 * identifier systems, where the ACO and CP come from. Every problem is named by element
 * (e.g. "DMG-02: not a CCYYMMDD date"), never by value.
 */
import { DEFAULT_SEX_CODES, codeMap, consentValues } from '../member-common/code-maps.js';
import { isOpenEnd, isoDate } from '../member-common/dates.js';
import type { X12Layout, X12Source } from '../member-common/layout-schema.js';
import type { MemberAction, MemberIdentifier, MemberItem, MemberRecord, MemberSex } from '../member-common/types.js';
import { isValidNpi, normalizeZip } from '../member-common/validators.js';
import { v, type CoverageDraft, type MemberDraft, type TransactionHeader } from './member-assembler.js';

const DEFAULT_MAINTENANCE: Readonly<Record<string, MemberAction>> = {
  '001': 'upsert', // change
  '021': 'upsert', // addition
  '025': 'upsert', // reinstatement
  '030': 'upsert', // audit or compare (full file)
  '024': 'terminate', // cancellation or termination
};
/** PER communication number qualifiers that are phone numbers (not email, fax, extension). */
const PHONE_QUALIFIERS = new Set(['TE', 'HP', 'CP', 'WP', 'BN']);

export type X12MemberMapper = (draft: MemberDraft, header: TransactionHeader) => MemberItem;

export function compileX12Mapper(layout: X12Layout): X12MemberMapper {
  const sexCodes = codeMap<MemberSex>(DEFAULT_SEX_CODES, layout.valueMaps.sex);
  const maintenance = new Map(Object.entries({ ...DEFAULT_MAINTENANCE, ...layout.maintenanceTypes }));
  const insuranceLines = layout.coverage.insuranceLines ? new Set(layout.coverage.insuranceLines) : undefined;
  const consent = layout.consent.map((c) => ({
    ...c,
    name: c.reportingCategory.trim().toUpperCase(),
    values: consentValues(c.granted, c.denied),
  }));
  const pcpQualifiers = new Set(layout.attribution.pcpIdQualifiers);
  const memberIdWhere = layout.memberId.map((r) => ('ref' in r ? `REF*${r.ref}` : `NM1-09 (NM1-08 ${r.nm1})`)).join(' or ');

  return (m, header) => {
    const problems: string[] = [];
    const coverage = insuranceLines ? m.coverages.find((c) => insuranceLines.has(v(c.hd, 3))) : m.coverages[0];

    let memberId = '';
    for (const rule of layout.memberId) {
      memberId = 'ref' in rule ? (refValue(m, coverage, rule.ref) ?? '') : m.nm1 && v(m.nm1, 8) === rule.nm1 ? v(m.nm1, 9) : '';
      if (memberId) break;
    }
    if (!memberId) problems.push(`memberId: no ${memberIdWhere}`);

    const insCode = v(m.ins, 3);
    let action = maintenance.get(insCode);
    if (!action) problems.push('INS-03: unknown maintenance type code');
    // A change (001) that cancels the attributed coverage (HD-01 024) ends the attribution too.
    if (coverage && v(coverage.hd, 1) === '024') action = 'terminate';

    const record: MemberRecord = {
      line: m.line,
      action: action ?? 'upsert',
      memberId,
      identifiers: [{ system: layout.memberIdSystem, value: memberId, type: 'MA' }],
      attribution: {},
    };
    const addIdentifier = (id: MemberIdentifier) => {
      if (!record.identifiers.some((x) => x.system === id.system && x.value === id.value)) record.identifiers.push(id);
    };
    for (const [qualifier, value] of [...m.refs, ...(coverage?.refs ?? [])]) {
      const target = layout.identifiers.ref[qualifier];
      if (target && value)
        addIdentifier(target.type ? { system: target.system, value, type: target.type } : { system: target.system, value });
    }
    if (m.nm1) {
      const target = layout.identifiers.nm1[v(m.nm1, 8)];
      const value = v(m.nm1, 9);
      if (target && value)
        addIdentifier(target.type ? { system: target.system, value, type: target.type } : { system: target.system, value });

      const family = v(m.nm1, 3);
      const given = [v(m.nm1, 4), v(m.nm1, 5)].filter((x) => x !== '');
      if (family || given.length > 0) record.name = { ...(family ? { family } : {}), ...(given.length > 0 ? { given } : {}) };
    }

    if (m.dmg) {
      const dob = v(m.dmg, 2);
      if (dob) {
        const d = v(m.dmg, 1) === 'D8' || v(m.dmg, 1) === '' ? d8(dob) : undefined;
        if (d) record.birthDate = d;
        else problems.push('DMG-02: not a CCYYMMDD date');
      }
      const sexCode = v(m.dmg, 3);
      if (sexCode) {
        const sex = sexCodes.get(sexCode.toUpperCase());
        if (sex) record.sex = sex;
        else problems.push('DMG-03: unknown gender code (add it to valueMaps.sex)');
      }
    }

    const lines = m.n3 ? [v(m.n3, 1), v(m.n3, 2)].filter((x) => x !== '') : [];
    const city = m.n4 ? v(m.n4, 1) : '';
    const state = m.n4 ? v(m.n4, 2) : '';
    let postalCode = m.n4 ? v(m.n4, 3) : '';
    const country = m.n4 ? v(m.n4, 4) : '';
    if (postalCode && (country === '' || country === 'US')) {
      const zip = normalizeZip(postalCode);
      if (zip) postalCode = zip;
      else problems.push('N4-03: not a US ZIP code');
    }
    if (lines.length > 0 || city || state || postalCode) {
      record.address = {
        ...(lines.length > 0 ? { line: lines } : {}),
        ...(city ? { city } : {}),
        ...(state ? { state } : {}),
        ...(postalCode ? { postalCode } : {}),
      };
    }
    const phone = firstPhone(m.per);
    if (phone) record.phone = phone;

    const a = record.attribution;
    const aco = sourceValue(layout.attribution.aco, m, coverage, header);
    if (aco) a.aco = aco;
    const cp = sourceValue(layout.attribution.cp, m, coverage, header);
    if (cp) a.cp = cp;
    const pcp = coverage?.providers.find((p) => v(p, 1) === 'P3' && pcpQualifiers.has(v(p, 8)) && v(p, 9) !== '');
    if (pcp) {
      const npi = v(pcp, 9);
      if (v(pcp, 8) !== 'XX' || isValidNpi(npi)) a.pcpNpi = npi;
      else problems.push('NM1*P3-09: not a valid NPI (10 digits with check digit)');
    }
    const start = dtpDate(layout.attribution.start, m, coverage, 'start', problems);
    if (start) a.start = start;
    // A start DTP sent as an RD8 range carries the end too, when no end DTP is sent.
    const end = dtpDate(layout.attribution.end, m, coverage, 'end', problems) ?? rangeEnd(layout.attribution.start, m, coverage);
    if (end && !isOpenEnd(end)) {
      if (start && end < start) problems.push('DTP: the end date is before the start date');
      else a.end = end;
    }

    for (const c of consent) {
      const value = m.categories.get(c.name);
      if (!value) continue;
      const granted = c.values.get(value.toUpperCase());
      if (granted === undefined) problems.push(`N1*75 ${c.reportingCategory}: unknown consent value (add it to consent granted/denied)`);
      else (record.consent ??= []).push({ partner: c.partner, category: c.category, granted });
    }

    for (const id of new Set(m.brokenSegments)) problems.push(`${id}: line break inside the segment`);

    if (problems.length > 0) {
      const reason = problems.join('; ');
      return { kind: 'error', error: memberId ? { line: m.line, reason, memberId } : { line: m.line, reason } };
    }
    if (layout.keepRaw) record.raw = m.raw;
    return { kind: 'record', record };
  };
}

/** A REF value: the member's (2000) first, then the coverage's (2300). */
function refValue(m: MemberDraft, coverage: CoverageDraft | undefined, qualifier: string): string | undefined {
  const hit = m.refs.find(([q, val]) => q === qualifier && val !== '') ?? coverage?.refs.find(([q, val]) => q === qualifier && val !== '');
  return hit?.[1];
}

function sourceValue(
  source: X12Source | undefined,
  m: MemberDraft,
  coverage: CoverageDraft | undefined,
  header: TransactionHeader,
): string | undefined {
  if (!source) return undefined;
  let value: string | undefined;
  if ('value' in source) value = source.value;
  else if ('ref' in source) value = refValue(m, coverage, source.ref);
  else if ('n1' in source) {
    const n1 = header.n1.get(source.n1);
    value = n1 ? v(n1, source.element) : undefined;
  } else if ('hd' in source) value = coverage ? v(coverage.hd, source.hd) : undefined;
  else value = m.categories.get(source.reportingCategory.trim().toUpperCase());
  return value || undefined;
}

/** First DTP among the qualifiers, coverage (2300) before member (2000). RD8 ranges give their start or end. */
function dtpDate(
  qualifiers: readonly string[],
  m: MemberDraft,
  coverage: CoverageDraft | undefined,
  side: 'start' | 'end',
  problems: string[],
): string | undefined {
  for (const q of qualifiers) {
    const el = coverage?.dtp.get(q) ?? m.dtp.get(q);
    if (!el) continue;
    const format = v(el, 2);
    const text = v(el, 3);
    let d: string | undefined;
    if (format === 'D8') d = d8(text);
    else if (format === 'RD8') {
      const range = /^(\d{8})-(\d{8})$/.exec(text);
      d = range ? d8(side === 'start' ? range[1] : range[2]) : undefined;
    }
    if (!d) problems.push(`DTP*${q}-03: not a ${format === 'RD8' ? 'CCYYMMDD-CCYYMMDD range' : 'CCYYMMDD date'}`);
    return d;
  }
  return undefined;
}

function rangeEnd(qualifiers: readonly string[], m: MemberDraft, coverage: CoverageDraft | undefined): string | undefined {
  for (const q of qualifiers) {
    const el = coverage?.dtp.get(q) ?? m.dtp.get(q);
    if (!el) continue;
    const range = v(el, 2) === 'RD8' ? /^\d{8}-(\d{8})$/.exec(v(el, 3)) : null;
    return range ? d8(range[1]) : undefined;
  }
  return undefined;
}

function d8(text: string): string | undefined {
  if (!/^\d{8}$/.test(text)) return undefined;
  return isoDate(Number(text.slice(0, 4)), Number(text.slice(4, 6)), Number(text.slice(6, 8)));
}

/** PER-03/04, 05/06, 07/08: the first phone-type number. */
function firstPhone(pers: readonly string[][]): string | undefined {
  for (const per of pers) {
    for (let k = 3; k <= 7; k += 2) {
      if (PHONE_QUALIFIERS.has(v(per, k)) && v(per, k + 1)) return v(per, k + 1);
    }
  }
  return undefined;
}
