/**
 * Care-plan CSV files over SFTP (format `careplan-csv`): care plans a CP sends (→ CarePlan
 * resources) and sign-off decisions an ACO returns. Which one a file is follows from its header
 * (a `decision` column: sign-offs; a `member_id` column: care plans). Streamed; a bad row is an
 * error item with its line number and the rows after it go on.
 */
import { CarePlanFileError, csvRecords, type CsvInput, type CsvRowOptions } from './csv-rows.js';
import { CAREPLAN_REQUIRED_COLUMNS, carePlanFromRow, type CarePlanRowOptions } from './to-careplan.js';
import { SIGNOFF_REQUIRED_COLUMNS, signoffFromRow, type SignoffRow } from './to-signoff.js';
import type { CarePlan } from 'fhir/r4.js';

export { CarePlanFileError, normalizeHeader, type CsvInput } from './csv-rows.js';
export { carePlanFromRow, CP_CARE_PLAN_CATEGORY, NPI_SYSTEM, CAREPLAN_REQUIRED_COLUMNS, type CarePlanRowOptions } from './to-careplan.js';
export { signoffFromRow, SIGNOFF_REQUIRED_COLUMNS, type SignoffRow } from './to-signoff.js';
export { parseNpi, parseInstant } from './values.js';

export type CarePlanFileKind = 'careplans' | 'signoffs';

export type CarePlanCsvItem =
  | { kind: 'careplan'; line: number; carePlan: CarePlan }
  | { kind: 'signoff'; line: number; signoff: SignoffRow }
  | { kind: 'error'; line: number; reason: string };

export interface CarePlanCsvOptions extends CarePlanRowOptions, CsvRowOptions {
  /** Zone of local sign-off times. */
  timeZone: string;
  /** Forces the file kind instead of telling it from the header. */
  kind?: CarePlanFileKind;
}

/** The file kind its header says, or undefined when it is neither. */
export function fileKindOf(header: readonly string[]): CarePlanFileKind | undefined {
  if (header.includes('decision')) return 'signoffs';
  if (header.includes('member_id')) return 'careplans';
  return undefined;
}

/**
 * Streams a care-plan or sign-off CSV. The first item tells the kind (`{ kind: 'file', ... }`);
 * throws CarePlanFileError when the header is missing or lacks a required column.
 */
export async function* readCarePlanCsv(
  input: CsvInput,
  options: CarePlanCsvOptions,
): AsyncGenerator<CarePlanCsvItem | { kind: 'file'; fileKind: CarePlanFileKind }> {
  let fileKind: CarePlanFileKind | undefined;
  for await (const record of csvRecords(input, options)) {
    if ('header' in record) {
      fileKind = options.kind ?? fileKindOf(record.header);
      if (!fileKind) throw new CarePlanFileError('the header has neither member_id (care plans) nor decision (sign-offs)');
      const required: readonly string[] = fileKind === 'careplans' ? CAREPLAN_REQUIRED_COLUMNS : SIGNOFF_REQUIRED_COLUMNS;
      const missing = required.filter((c) => !record.header.includes(c));
      if (missing.length) throw new CarePlanFileError(`the header lacks required column(s): ${missing.join(', ')}`);
      yield { kind: 'file', fileKind };
      continue;
    }
    if (record.error !== undefined) {
      yield { kind: 'error', line: record.line, reason: record.error };
      continue;
    }
    if (fileKind === 'careplans') {
      const r = carePlanFromRow(record.values, options);
      yield r.ok ? { kind: 'careplan', line: record.line, carePlan: r.value } : { kind: 'error', line: record.line, reason: r.reason };
    } else {
      const r = signoffFromRow(record.values, options.timeZone);
      yield r.ok ? { kind: 'signoff', line: record.line, signoff: r.value } : { kind: 'error', line: record.line, reason: r.reason };
    }
  }
}
