/**
 * Delimited member files (CSV, TSV, pipe): header names mapped by the partner layout, one
 * MemberItem per data row, streamed. A bad row becomes an error item and the next row goes on.
 */
import { decodeText } from '../member-common/decode-text.js';
import type { DelimitedLayout } from '../member-common/layout-schema.js';
import { compileRowMapper, isBlankRow, type RowMapper } from '../member-common/row-mapper.js';
import { MemberFileError, type MemberInput, type MemberItem } from '../member-common/types.js';
import { DelimitedTokenizer, type TokenizedRow } from './delimited-tokenizer.js';

export async function* readDelimitedMembers(input: MemberInput, layout: DelimitedLayout): AsyncGenerator<MemberItem> {
  const tokenizer = new DelimitedTokenizer({
    delimiter: layout.delimiter,
    quote: layout.quote,
    maxRowChars: layout.maxRowChars,
    skipLines: layout.skipLines,
  });
  let mapper: RowMapper | undefined;
  let width = 0;
  if (!layout.header && layout.columns) {
    mapper = compileRowMapper(layout, layout.columns, 0);
    width = layout.columns.length;
  }

  // Turns one tokenized row into at most one item; the header row sets up the mapper.
  const handle = (row: TokenizedRow): MemberItem | undefined => {
    if (row.error !== undefined) return { kind: 'error', error: { line: row.line, reason: row.error } };
    const fields = row.fields;
    if (!mapper) {
      if (isBlankRow(fields)) return undefined; // blank lines before the header
      mapper = compileRowMapper(layout, fields, row.line);
      width = fields.length;
      return undefined;
    }
    if (fields.length !== width && mapper.isMemberRow(fields)) {
      if (fields.length > width || layout.raggedRows === 'error') {
        const reason = `row has ${fields.length} fields, the header has ${width}`;
        const memberId = mapper.memberIdOf(fields);
        return { kind: 'error', error: memberId ? { line: row.line, reason, memberId } : { line: row.line, reason } };
      }
    }
    return mapper.map(fields, row.line);
  };

  for await (const text of decodeText(input, layout.encoding)) {
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
  if (!mapper) throw new MemberFileError(0, 'the file has no header row');
}
