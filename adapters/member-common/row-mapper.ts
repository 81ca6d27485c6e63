/**
 * Maps one row of a tabular member file (delimited, fixed-width, XLSX) to a MemberRecord, or to a
 * RowError naming every problem in the row. Column lookups are resolved once per file, so the
 * per-row work is array reads and a few checks.
 */
import { DEFAULT_SEX_CODES, DEFAULT_STATUS_CODES, codeMap, consentValues, type MemberStatus } from './code-maps.js';
import { compileDateFormat, isOpenEnd, parseDate, type DateFormat } from './dates.js';
import type { FieldSource, TabularLayout } from './layout-schema.js';
import { MemberFileError, type MemberItem, type MemberRecord, type MemberSex } from './types.js';
import { isValidNpi, normalizeZip } from './validators.js';

export interface RowMapper {
  /**
   * `values` are aligned with the columns the mapper was compiled for (missing trailing values
   * read as empty). undefined: the row is not a member row (recordFilter) or is blank.
   */
  map(values: readonly (string | undefined)[], line: number): MemberItem | undefined;
  /** False for blank rows and rows the recordFilter leaves out (headers, trailers). */
  isMemberRow(values: readonly (string | undefined)[]): boolean;
  /** The member id of a row that cannot be mapped (e.g. ragged), so its error still names the member. */
  memberIdOf(values: readonly (string | undefined)[]): string | undefined;
}

/** A compiled field source: where to read and how to name it in a RowError. */
interface Getter {
  label: string;
  index: number;
  constant?: string;
  padStart?: number;
  dateFormats?: DateFormat[];
}

type Fields = TabularLayout['fields'];

/**
 * `columns`: the file's column names (header row, or the layout's list); matched to the layout
 * trimmed and case-insensitively. Throws MemberFileError when a mapped column is absent or ambiguous.
 */
export function compileRowMapper(layout: TabularLayout, columns: readonly string[], headerLine: number): RowMapper {
  const byName = new Map<string, number>();
  const ambiguous = new Set<string>();
  columns.forEach((name, i) => {
    const key = name.trim().toUpperCase();
    if (byName.has(key)) ambiguous.add(key);
    else byName.set(key, i);
  });
  const columnIndex = (column: string, where: string): number => {
    const key = column.trim().toUpperCase();
    if (ambiguous.has(key)) throw new MemberFileError(headerLine, `column '${column}' (${where}) appears more than once in the header`);
    const index = byName.get(key);
    if (index === undefined) throw new MemberFileError(headerLine, `no column '${column}' (${where}) in the header`);
    return index;
  };
  const layoutFormats = layout.dateFormats.map(compileDateFormat);
  const getter = (source: FieldSource, where: string, isDate = false): Getter => {
    if (typeof source === 'string') {
      return { label: source, index: columnIndex(source, where), dateFormats: isDate ? layoutFormats : undefined };
    }
    if ('value' in source) return { label: where, index: -1, constant: source.value };
    return {
      label: source.column,
      index: columnIndex(source.column, where),
      padStart: source.padStart,
      dateFormats: isDate ? (source.format ? [compileDateFormat(source.format)] : layoutFormats) : undefined,
    };
  };
  const optional = (name: keyof Fields, isDate = false): Getter | undefined => {
    const source = layout.fields[name];
    return source === undefined ? undefined : getter(source as FieldSource, `fields.${name}`, isDate);
  };
  const list = (name: 'given' | 'address'): Getter[] => {
    const source = layout.fields[name];
    if (source === undefined) return [];
    return (Array.isArray(source) ? source : [source]).map((s, i) => getter(s, `fields.${name}${Array.isArray(source) ? `[${i}]` : ''}`));
  };

  const g = {
    memberId: getter(layout.fields.memberId, 'fields.memberId'),
    family: optional('family'),
    given: list('given'),
    birthDate: optional('birthDate', true),
    sex: optional('sex'),
    address: list('address'),
    city: optional('city'),
    state: optional('state'),
    postalCode: optional('postalCode'),
    phone: optional('phone'),
    aco: optional('aco'),
    cp: optional('cp'),
    pcpNpi: optional('pcpNpi'),
    start: optional('start', true),
    end: optional('end', true),
    status: optional('status'),
  };
  const identifiers = layout.identifiers.map((id, i) => ({
    ...id,
    getter: getter(id.column, `identifiers[${i}].column`),
  }));
  const consent = layout.consent.map((c, i) => ({
    partner: c.partner,
    category: c.category,
    values: consentValues(c.granted, c.denied),
    getter: getter(c.column, `consent[${i}].column`),
  }));
  const filter = layout.recordFilter
    ? { getter: getter(layout.recordFilter.column, 'recordFilter.column'), values: new Set(layout.recordFilter.values.map((v) => v.trim().toUpperCase())) }
    : undefined;
  const sexCodes = codeMap<MemberSex>(DEFAULT_SEX_CODES, layout.valueMaps.sex);
  const statusCodes = codeMap<MemberStatus>(DEFAULT_STATUS_CODES, layout.valueMaps.status);
  const memberIdSystem = layout.memberIdSystem;
  const keepRaw = layout.keepRaw;
  const names = columns.map((c) => c.trim());

  const read = (values: readonly (string | undefined)[], get: Getter): string => {
    if (get.index < 0) return get.constant ?? '';
    const v = values[get.index];
    if (v === undefined) return '';
    const t = v.trim();
    return get.padStart && t.length < get.padStart && t.length > 0 && /^\d+$/.test(t) ? t.padStart(get.padStart, '0') : t;
  };
  const readDate = (values: readonly (string | undefined)[], get: Getter | undefined, problems: string[]): string | undefined => {
    if (!get) return undefined;
    const v = read(values, get);
    if (!v) return undefined;
    const d = parseDate(v, get.dateFormats ?? layoutFormats);
    if (!d) problems.push(`${get.label}: not a date (${describeFormats(get.dateFormats ?? layoutFormats)})`);
    return d;
  };
  const readOpt = (values: readonly (string | undefined)[], get: Getter | undefined): string | undefined => {
    if (!get) return undefined;
    const v = read(values, get);
    return v === '' ? undefined : v;
  };

  const isMemberRow = (values: readonly (string | undefined)[]): boolean =>
    !isBlankRow(values) && (!filter || filter.values.has(read(values, filter.getter).toUpperCase()));

  return {
    memberIdOf(values) {
      return read(values, g.memberId) || undefined;
    },
    isMemberRow,
    map(values, line) {
      if (!isMemberRow(values)) return undefined;
      const problems: string[] = [];
      const memberId = read(values, g.memberId);
      if (!memberId) problems.push(`${g.memberId.label}: missing member id`);

      const record: MemberRecord = {
        line,
        action: 'upsert',
        memberId,
        identifiers: [{ system: memberIdSystem, value: memberId, type: 'MA' }],
        attribution: {},
      };

      const family = readOpt(values, g.family);
      const given = g.given.map((x) => read(values, x)).filter((x) => x !== '');
      if (family || given.length > 0) record.name = { ...(family ? { family } : {}), ...(given.length > 0 ? { given } : {}) };

      const birthDate = readDate(values, g.birthDate, problems);
      if (birthDate) record.birthDate = birthDate;

      const sexCode = readOpt(values, g.sex);
      if (sexCode !== undefined && g.sex) {
        const sex = sexCodes.get(sexCode.toUpperCase());
        if (sex) record.sex = sex;
        else problems.push(`${g.sex.label}: unknown sex code (add it to valueMaps.sex)`);
      }

      const lines = g.address.map((x) => read(values, x)).filter((x) => x !== '');
      const city = readOpt(values, g.city);
      const state = readOpt(values, g.state);
      let postalCode = readOpt(values, g.postalCode);
      if (postalCode !== undefined && g.postalCode) {
        postalCode = normalizeZip(postalCode);
        if (!postalCode) problems.push(`${g.postalCode.label}: not a US ZIP code`);
      }
      if (lines.length > 0 || city || state || postalCode) {
        record.address = {
          ...(lines.length > 0 ? { line: lines } : {}),
          ...(city ? { city } : {}),
          ...(state ? { state } : {}),
          ...(postalCode ? { postalCode } : {}),
        };
      }
      const phone = readOpt(values, g.phone);
      if (phone) record.phone = phone;

      const a = record.attribution;
      const aco = readOpt(values, g.aco);
      if (aco) a.aco = aco;
      const cp = readOpt(values, g.cp);
      if (cp) a.cp = cp;
      const npi = readOpt(values, g.pcpNpi);
      if (npi !== undefined && g.pcpNpi) {
        if (isValidNpi(npi)) a.pcpNpi = npi;
        else problems.push(`${g.pcpNpi.label}: not a valid NPI (10 digits with check digit)`);
      }
      const start = readDate(values, g.start, problems);
      if (start) a.start = start;
      const end = readDate(values, g.end, problems);
      if (end && !isOpenEnd(end)) {
        if (start && end < start) problems.push(`${g.end?.label}: before the start date`);
        else a.end = end;
      }

      const status = readOpt(values, g.status);
      if (status !== undefined && g.status) {
        const s = statusCodes.get(status.toUpperCase());
        if (s === 'terminated') record.action = 'terminate';
        else if (!s) problems.push(`${g.status.label}: unknown status code (add it to valueMaps.status)`);
      }

      for (const id of identifiers) {
        const value = read(values, id.getter);
        if (value) record.identifiers.push(id.type ? { system: id.system, value, type: id.type } : { system: id.system, value });
      }
      for (const c of consent) {
        const v = read(values, c.getter);
        if (!v) continue;
        const granted = c.values.get(v.toUpperCase());
        if (granted === undefined) {
          problems.push(`${c.getter.label}: unknown consent value (add it to consent granted/denied)`);
          continue;
        }
        (record.consent ??= []).push({ partner: c.partner, category: c.category, granted });
      }

      if (problems.length > 0) {
        return { kind: 'error', error: memberId ? { line, reason: problems.join('; '), memberId } : { line, reason: problems.join('; ') } };
      }
      if (keepRaw) {
        const raw: Record<string, string> = {};
        for (let i = 0; i < names.length; i++) raw[names[i]] = values[i] ?? '';
        record.raw = raw;
      }
      return { kind: 'record', record };
    },
  };
}

function describeFormats(formats: readonly DateFormat[]): string {
  return [...formats.map((f) => f.source), 'YYYY-MM-DD'].filter((f, i, all) => all.indexOf(f) === i).join(' or ');
}

/** True when every value is empty or whitespace: such rows (",,,," at the end of exports) are skipped. */
export function isBlankRow(values: readonly (string | undefined)[]): boolean {
  for (const v of values) if (v !== undefined && v.trim() !== '') return false;
  return true;
}
