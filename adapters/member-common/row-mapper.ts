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
    ? {
        getter: getter(layout.recordFilter.column, 'recordFilter.column'),
        values: new Set(layout.recordFilter.values.map((v) => v.trim().toUpperCase())),
      }
    : undefined;
  const sexCodes = codeMap<MemberSex>(DEFAULT_SEX_CODES, layout.valueMaps.sex);
  const statusCodes = codeMap<MemberStatus>(DEFAULT_STATUS_CODES, layout.valueMaps.status);
  const memberIdSystem = layout.memberIdSystem;
  const keepRaw = layout.keepRaw;
  const names = columns.map((c) => c.trim());
  // Copying a template gives every raw object the same shape up front (faster than growing one).
  const rawTemplate: Record<string, string> = Object.fromEntries(names.map((n) => [n, '']));

  const read = (values: readonly (string | undefined)[], get: Getter): string => {
    if (get.index < 0) return get.constant ?? '';
    const v = values[get.index];
    if (v === undefined) return '';
    const t = v.trim();
    return get.padStart && t.length < get.padStart && t.length > 0 && /^\d+$/.test(t) ? t.padStart(get.padStart, '0') : t;
  };
  const readDate = (
    values: readonly (string | undefined)[],
    get: Getter | undefined,
    problem: (text: string) => void,
  ): string | undefined => {
    if (!get) return undefined;
    const v = read(values, get);
    if (!v) return undefined;
    const d = parseDate(v, get.dateFormats ?? layoutFormats);
    if (!d) problem(`${get.label}: not a date (${describeFormats(get.dateFormats ?? layoutFormats)})`);
    return d;
  };
  /** Non-empty values of several columns in order (given names, street lines); undefined when none. */
  const readList = (values: readonly (string | undefined)[], getters: readonly Getter[]): string[] | undefined => {
    let out: string[] | undefined;
    for (const get of getters) {
      const v = read(values, get);
      if (v) (out ??= []).push(v);
    }
    return out;
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
      // Problems are rare: the list is only allocated for a bad row (this runs 1M times a file).
      let problems: string[] | undefined;
      const problem = (text: string) => {
        (problems ??= []).push(text);
      };
      const memberId = read(values, g.memberId);
      if (!memberId) problem(`${g.memberId.label}: missing member id`);

      const record: MemberRecord = {
        line,
        action: 'upsert',
        memberId,
        identifiers: [{ system: memberIdSystem, value: memberId, type: 'MA' }],
        attribution: {},
      };

      const family = readOpt(values, g.family);
      const given = readList(values, g.given);
      if (family !== undefined || given !== undefined) {
        const name: NonNullable<MemberRecord['name']> = {};
        if (family !== undefined) name.family = family;
        if (given !== undefined) name.given = given;
        record.name = name;
      }

      const birthDate = readDate(values, g.birthDate, problem);
      if (birthDate) record.birthDate = birthDate;

      if (g.sex) {
        const code = read(values, g.sex);
        if (code) {
          const sex = lookup(sexCodes, code);
          if (sex) record.sex = sex;
          else problem(`${g.sex.label}: unknown sex code (add it to valueMaps.sex)`);
        }
      }

      const lines = readList(values, g.address);
      const city = readOpt(values, g.city);
      const state = readOpt(values, g.state);
      let postalCode = readOpt(values, g.postalCode);
      if (postalCode !== undefined) {
        postalCode = normalizeZip(postalCode);
        if (!postalCode) problem(`${g.postalCode!.label}: not a US ZIP code`);
      }
      if (lines !== undefined || city !== undefined || state !== undefined || postalCode !== undefined) {
        const address: NonNullable<MemberRecord['address']> = {};
        if (lines !== undefined) address.line = lines;
        if (city !== undefined) address.city = city;
        if (state !== undefined) address.state = state;
        if (postalCode !== undefined) address.postalCode = postalCode;
        record.address = address;
      }
      const phone = readOpt(values, g.phone);
      if (phone !== undefined) record.phone = phone;

      const a = record.attribution;
      const aco = readOpt(values, g.aco);
      if (aco !== undefined) a.aco = aco;
      const cp = readOpt(values, g.cp);
      if (cp !== undefined) a.cp = cp;
      const npi = readOpt(values, g.pcpNpi);
      if (npi !== undefined) {
        if (isValidNpi(npi)) a.pcpNpi = npi;
        else problem(`${g.pcpNpi!.label}: not a valid NPI (10 digits with check digit)`);
      }
      const start = readDate(values, g.start, problem);
      if (start) a.start = start;
      const end = readDate(values, g.end, problem);
      if (end && !isOpenEnd(end)) {
        if (start && end < start) problem(`${g.end!.label}: before the start date`);
        else a.end = end;
      }

      if (g.status) {
        const code = read(values, g.status);
        if (code) {
          const status = lookup(statusCodes, code);
          if (status === 'terminated') record.action = 'terminate';
          else if (!status) problem(`${g.status.label}: unknown status code (add it to valueMaps.status)`);
        }
      }

      for (const id of identifiers) {
        const value = read(values, id.getter);
        if (value) record.identifiers.push(id.type ? { system: id.system, value, type: id.type } : { system: id.system, value });
      }
      for (const c of consent) {
        const value = read(values, c.getter);
        if (!value) continue;
        const granted = lookup(c.values, value);
        if (granted === undefined) problem(`${c.getter.label}: unknown consent value (add it to consent granted/denied)`);
        else (record.consent ??= []).push({ partner: c.partner, category: c.category, granted });
      }

      if (problems) {
        const reason = problems.join('; ');
        return { kind: 'error', error: memberId ? { line, reason, memberId } : { line, reason } };
      }
      if (keepRaw) {
        const raw: Record<string, string> = { ...rawTemplate };
        for (let i = 0; i < names.length; i++) raw[names[i]] = values[i] ?? '';
        record.raw = raw;
      }
      return { kind: 'record', record };
    },
  };
}

/** Exact key first (the common case, no allocation), then upper-cased. */
function lookup<T>(map: Map<string, T>, code: string): T | undefined {
  return map.get(code) ?? map.get(code.toUpperCase());
}

function describeFormats(formats: readonly DateFormat[]): string {
  return [...formats.map((f) => f.source), 'YYYY-MM-DD'].filter((f, i, all) => all.indexOf(f) === i).join(' or ');
}

/** True when every value is empty or whitespace: such rows (",,,," at the end of exports) are skipped. */
export function isBlankRow(values: readonly (string | undefined)[]): boolean {
  for (const v of values) if (v !== undefined && v.trim() !== '') return false;
  return true;
}
