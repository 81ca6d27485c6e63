/**
 * Rows of a care-plan CSV as name → value records, streamed: bytes → text (BOM-aware, shared with the
 * member readers) → RFC 4180 rows (the member CSV tokenizer) → records keyed by normalized header
 * names. Blank lines are skipped; a row whose quoting is broken is an error item and the next row
 * goes on.
 */
import { decodeText } from '../member-common/decode-text.js';
import type { MemberInput } from '../member-common/types.js';
import { DelimitedTokenizer, type TokenizedRow } from '../member-csv/delimited-tokenizer.js';

export type CsvInput = MemberInput;

export type CsvRecord =
  { line: number; values: ReadonlyMap<string, string>; error?: undefined } | { line: number; values?: undefined; error: string };

/** A whole file the reader cannot use (no header, a required column missing). No values in it. */
export class CarePlanFileError extends Error {
  override readonly name = 'CarePlanFileError';
}

/** "Member ID", "member-id" and "MEMBER_ID" are one column. */
export function normalizeHeader(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

export interface CsvRowOptions {
  delimiter?: string;
  /** Longest row accepted (a quote never closed would otherwise swallow the file). Default 64 KiB. */
  maxRowChars?: number;
}

/** The header row comes first (as `header`), then one record per data row. */
export async function* csvRecords(input: CsvInput, options: CsvRowOptions = {}): AsyncGenerator<CsvRecord | { header: string[] }> {
  const tokenizer = new DelimitedTokenizer({ delimiter: options.delimiter ?? ',', quote: '"', maxRowChars: options.maxRowChars ?? 65_536 });
  let header: string[] | undefined;
  const handle = (row: TokenizedRow): CsvRecord | { header: string[] } | undefined => {
    if (row.error !== undefined) return { line: row.line, error: row.error };
    if (row.fields.every((f) => f.trim() === '')) return undefined;
    if (!header) {
      header = row.fields.map(normalizeHeader);
      return { header };
    }
    if (row.fields.length > header.length)
      return { line: row.line, error: `row has ${row.fields.length} fields, the header has ${header.length}` };
    const values = new Map<string, string>();
    header.forEach((name, i) => values.set(name, (row.fields[i] ?? '').trim()));
    return { line: row.line, values };
  };
  for await (const text of decodeText(input)) {
    tokenizer.push(text);
    for (let row = tokenizer.next(); row; row = tokenizer.next()) {
      const item = handle(row);
      if (item) yield item;
    }
  }
  tokenizer.end();
  for (let row = tokenizer.next(); row; row = tokenizer.next()) {
    const item = handle(row);
    if (item) yield item;
  }
  if (!header) throw new CarePlanFileError('the file has no header row');
}
