/**
 * Per-partner member file layouts (`mappings/partners/<id>/member-<format>.yaml`), validated at
 * load so a bad layout fails with the file, the key and the problem before any file is read.
 */
import { z } from 'zod';
import { compileDateFormat } from './dates.js';

const uri = z
  .string()
  .regex(/^(https?:\/\/\S+|urn:(oid|uuid|[a-z0-9-]+):\S+)$/i, 'must be an absolute URI (http(s)://, urn:oid:, urn:...)');
const partnerId = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _');
const identifierType = z.string().regex(/^[A-Z0-9]{1,5}$/, 'must be an identifier type code like MA, MR or SS');
const dateFormat = z.string().superRefine((f, ctx) => {
  try {
    compileDateFormat(f);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});
const consentCategory = z.enum(['behavioral-health', 'substance-use']);
/** What a consent flag says, whichever source field (a column, an 834 reporting category) carries it. */
const consentOutcome = {
  partner: partnerId,
  category: consentCategory,
  granted: z.array(z.string().min(1)).min(1),
  denied: z.array(z.string().min(1)).default([]),
};
const sexValue = z.enum(['male', 'female', 'other', 'unknown']);
const encoding = z.enum(['utf-8', 'latin1', 'windows-1252', 'utf-16le']).default('utf-8');

const common = {
  /** The partner id (the folder name). */
  id: partnerId,
  /** System of the Medicaid member id (the key); identifiers[0] of every record. */
  memberIdSystem: uri,
  /** Keep the source fields on each record (for audit); off saves memory on huge files. */
  keepRaw: z.boolean().default(true),
  /**
   * The sender's own codes for ACOs and CPs in its files → configured partner ids, e.g.
   * `cp: { 'CP-0042': example-cp }`. A code without an entry is taken as a partner id as is; a
   * row naming no configured partner is a row error.
   */
  partnerCodes: z
    .object({
      aco: z.record(z.string().min(1), partnerId).optional(),
      cp: z.record(z.string().min(1), partnerId).optional(),
    })
    .strict()
    .default({}),
};

// ---- tabular layouts (delimited, fixed-width, xlsx) -------------------------------------------

const columnName = z.string().trim().min(1, 'must be a column name');
/** Where a field's value comes from: a column, a column with options, or a constant. */
const fieldSource = z.union(
  [
    columnName,
    z
      .object({
        column: columnName,
        /** Date format for this column only (dates fields). */
        format: dateFormat.optional(),
        /** Left-pad digit-only values with zeros to this length (spreadsheets drop leading zeros of ZIP codes and ids). */
        padStart: z.number().int().min(1).max(40).optional(),
      })
      .strict(),
    z.object({ value: z.string().min(1) }).strict(),
  ],
  { error: 'must be a column name, {column: NAME, format?, padStart?} or {value: CONSTANT}' },
);
const sourceList = z.union([fieldSource, z.array(fieldSource).min(1)]);
export type FieldSource = z.infer<typeof fieldSource>;

export const TABULAR_FIELDS = [
  'memberId',
  'family',
  'given',
  'birthDate',
  'sex',
  'address',
  'city',
  'state',
  'postalCode',
  'phone',
  'aco',
  'cp',
  'pcpNpi',
  'start',
  'end',
  'status',
] as const;

const tabularFields = z
  .object({
    memberId: fieldSource,
    family: fieldSource.optional(),
    /** Given names in order (first, middle). */
    given: sourceList.optional(),
    birthDate: fieldSource.optional(),
    sex: fieldSource.optional(),
    /** Street lines in order. */
    address: sourceList.optional(),
    city: fieldSource.optional(),
    state: fieldSource.optional(),
    postalCode: fieldSource.optional(),
    phone: fieldSource.optional(),
    aco: fieldSource.optional(),
    cp: fieldSource.optional(),
    pcpNpi: fieldSource.optional(),
    /** Attribution effective start / end. */
    start: fieldSource.optional(),
    end: fieldSource.optional(),
    /** Eligibility status; valueMaps.status says which codes mean terminated. */
    status: fieldSource.optional(),
  })
  .strict();

const tabular = {
  ...common,
  /** Tried in order; ISO YYYY-MM-DD is always accepted too. */
  dateFormats: z.array(dateFormat).min(1).default(['YYYY-MM-DD']),
  fields: tabularFields,
  /** Extra identifiers: MRNs, ACO/CP member ids, SSN (type SS). Empty cells are skipped. */
  identifiers: z.array(z.object({ column: columnName, system: uri, type: identifierType.optional() }).strict()).default([]),
  /** Consent flags from a column: which values grant, which deny (case-insensitive); empty = not on file. */
  consent: z
    .array(
      z
        .object({
          column: columnName,
          ...consentOutcome,
        })
        .strict(),
    )
    .default([]),
  /** Source code → value, case-insensitive; sex has defaults (M, F, U, O, male, female, ...). */
  valueMaps: z
    .object({
      sex: z.record(z.string(), sexValue).optional(),
      status: z.record(z.string(), z.enum(['active', 'terminated'])).optional(),
    })
    .strict()
    .default({}),
  /** Only rows whose column holds one of these values are members (e.g. detail records 'D'); others are skipped. */
  recordFilter: z
    .object({ column: columnName, values: z.array(z.string()).min(1) })
    .strict()
    .optional(),
};

const DELIMITER_WORDS: Record<string, string> = { comma: ',', tab: '\t', pipe: '|', semicolon: ';' };

export const delimitedLayoutSchema = z
  .object({
    ...tabular,
    format: z.literal('delimited'),
    encoding,
    /** `,` `\t` `|` `;` (or the words comma, tab, pipe, semicolon). */
    delimiter: z
      .preprocess(
        (v) => (typeof v === 'string' && v in DELIMITER_WORDS ? DELIMITER_WORDS[v] : v),
        z.enum([',', '\t', '|', ';'], { error: 'must be one of , \\t | ; (or comma, tab, pipe, semicolon)' }),
      )
      .default(','),
    /** Quote character (RFC 4180); null for files that never quote, so a stray " is just text. */
    quote: z.union([z.string().length(1), z.null()]).default('"'),
    /** The first (non-skipped) row names the columns. */
    header: z.boolean().default(true),
    /** Column names by position, when the file has no header row. */
    columns: z.array(columnName).min(1).optional(),
    /** Physical lines to skip before the header (banners). */
    skipLines: z.number().int().min(0).default(0),
    /** A row with fewer fields than the header: `error` (default) or `pad` with empty values. More fields is always an error. */
    raggedRows: z.enum(['error', 'pad']).default('error'),
    /** A row longer than this (characters) is reported and skipped: an unbalanced quote would otherwise swallow the file. */
    maxRowChars: z
      .number()
      .int()
      .min(1024)
      .default(1 << 20),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (!l.header && !l.columns) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'required when header: false' });
    if (l.quote !== null && (l.quote === l.delimiter || l.quote === '\n' || l.quote === '\r')) {
      ctx.addIssue({ code: 'custom', path: ['quote'], message: 'must differ from the delimiter and line breaks' });
    }
  });

const fixedColumn = z.union(
  [
    z.object({ name: columnName, start: z.number().int().min(1), length: z.number().int().min(1) }).strict(),
    z.object({ name: columnName, start: z.number().int().min(1), end: z.number().int().min(1) }).strict(),
  ],
  { error: 'must be {name, start, length} or {name, start, end} (1-based, end inclusive)' },
);

export const fixedWidthLayoutSchema = z
  .object({
    ...tabular,
    format: z.literal('fixed-width'),
    encoding,
    /** Positions are 1-based character positions, as record layouts print them. */
    columns: z.array(fixedColumn).min(1),
    skipLines: z.number().int().min(0).default(0),
    /** A line shorter than the layout: `pad` (default; trailing blanks are often trimmed) or `error`. */
    shortLines: z.enum(['pad', 'error']).default('pad'),
  })
  .strict()
  .superRefine((l, ctx) => {
    const seen = new Set<string>();
    l.columns.forEach((c, i) => {
      if ('end' in c && c.end < c.start) ctx.addIssue({ code: 'custom', path: ['columns', i, 'end'], message: 'must not be before start' });
      const key = c.name.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: 'is a duplicate column name' });
      seen.add(key);
    });
  });

export const xlsxLayoutSchema = z
  .object({
    ...tabular,
    format: z.literal('xlsx'),
    /** Worksheet name, or 1-based position (as the workbook stores them; 1 = the first tab in files saved by Excel). */
    sheet: z.union([z.string().min(1), z.number().int().min(1)]).default(1),
    /** Sheet row that names the columns; rows above it are skipped. */
    headerRow: z.number().int().min(1).default(1),
  })
  .strict();

// ---- X12 834 ----------------------------------------------------------------------------------

const x12Code = z.string().regex(/^[A-Z0-9]{1,3}$/, 'must be an X12 code like 0F, 1L or 348');
const identifierTarget = z.object({ system: uri, type: identifierType.optional() }).strict();

/** Where an attribution value comes from in an 834. */
const x12Source = z.union(
  [
    /** A constant, e.g. the ACO that sends this file. */
    z.object({ value: z.string().min(1) }).strict(),
    /** A REF of the member (loop 2000) or of its coverage (2300) by qualifier. */
    z.object({ ref: x12Code }).strict(),
    /** A header N1 (1000A/B/C) by entity code: P5 sponsor, IN payer, TV/BO administrator/broker; element 4 (id, default) or 2 (name). */
    z.object({ n1: x12Code, element: z.union([z.literal(2), z.literal(4)]).default(4) }).strict(),
    /** An element of the member's coverage HD: 3 insurance line, 4 plan description, 5 coverage level. */
    z.object({ hd: z.union([z.literal(3), z.literal(4), z.literal(5)]) }).strict(),
    /** A 2750 reporting category: the REF-02 (or DTP-03) after N1*75*<name>. */
    z.object({ reportingCategory: z.string().min(1) }).strict(),
  ],
  { error: 'must be {value}, {ref}, {n1, element?}, {hd} or {reportingCategory}' },
);
export type X12Source = z.infer<typeof x12Source>;

export const x12LayoutSchema = z
  .object({
    ...common,
    format: z.literal('x12-834'),
    encoding,
    /** Where the member id comes from, first present wins: a member REF qualifier or the NM1-08 code of the 2100A NM1-09. */
    memberId: z
      .array(
        z.union([z.object({ ref: x12Code }).strict(), z.object({ nm1: x12Code }).strict()], {
          error: 'must be {ref: QUALIFIER} or {nm1: NM1-08 CODE}',
        }),
      )
      .min(1)
      .default([{ ref: '0F' }]),
    identifiers: z
      .object({
        /** REF qualifier (loops 2000/2300) → identifier system, e.g. 1L group, 23 client number, ZZ. */
        ref: z.record(x12Code, identifierTarget).default({}),
        /** 2100A NM1-08 code → system, e.g. 34 (SSN) → us-ssn type SS, MI → a member id system. */
        nm1: z.record(x12Code, identifierTarget).default({}),
      })
      .strict()
      .default({ ref: {}, nm1: {} }),
    attribution: z
      .object({
        aco: x12Source.optional(),
        cp: x12Source.optional(),
        /** DTP qualifiers for the effective start / end, first present wins (coverage 2300, then member 2000). */
        start: z.array(x12Code).min(1).default(['348', '356']),
        end: z.array(x12Code).min(1).default(['349', '357']),
        /** NM1-08 codes of a 2310 NM1*P3 whose NM1-09 is the PCP NPI. */
        pcpIdQualifiers: z.array(x12Code).default(['XX']),
      })
      .strict()
      .default({ start: ['348', '356'], end: ['349', '357'], pcpIdQualifiers: ['XX'] }),
    /** Which HD loops describe the attributed coverage (HD-03 insurance line codes); default the first HD. */
    coverage: z
      .object({ insuranceLines: z.array(x12Code).min(1).optional() })
      .strict()
      .default({}),
    /** INS-03 code → action; merged over 001/021/025/030 → upsert, 024 → terminate. */
    maintenanceTypes: z.record(z.string().regex(/^\d{3}$/, 'must be a 3-digit INS-03 code'), z.enum(['upsert', 'terminate'])).default({}),
    valueMaps: z
      .object({ sex: z.record(z.string(), sexValue).optional() })
      .strict()
      .default({}),
    /** Consent from a 2750 reporting category. */
    consent: z
      .array(
        z
          .object({
            reportingCategory: z.string().min(1),
            ...consentOutcome,
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export const MEMBER_FORMATS = ['delimited', 'fixed-width', 'xlsx', 'x12-834'] as const;
export type MemberFormat = (typeof MEMBER_FORMATS)[number];

export const layoutProfileSchema = z.discriminatedUnion(
  'format',
  [delimitedLayoutSchema, fixedWidthLayoutSchema, xlsxLayoutSchema, x12LayoutSchema],
  {
    error: `must be one of ${MEMBER_FORMATS.join(', ')}`,
  },
);

export type DelimitedLayout = z.infer<typeof delimitedLayoutSchema>;
export type FixedWidthLayout = z.infer<typeof fixedWidthLayoutSchema>;
export type XlsxLayout = z.infer<typeof xlsxLayoutSchema>;
export type X12Layout = z.infer<typeof x12LayoutSchema>;
export type TabularLayout = DelimitedLayout | FixedWidthLayout | XlsxLayout;
export type LayoutProfile = z.infer<typeof layoutProfileSchema>;
