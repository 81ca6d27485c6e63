/**
 * Fixed-width member files: each physical line is one record, fields cut at the layout's 1-based
 * character positions and trimmed. Positions count characters, not bytes, so set `encoding` to
 * what the file really uses (mainframe extracts are often latin1).
 */
import { decodeText } from '../member-common/decode-text.js';
import type { FixedWidthLayout } from '../member-common/layout-schema.js';
import { LineSplitter, type PhysicalLine } from '../member-common/line-splitter.js';
import { compileRowMapper } from '../member-common/row-mapper.js';
import type { MemberInput, MemberItem } from '../member-common/types.js';

interface Slice {
  from: number;
  to: number;
}

export async function* readFixedWidthMembers(input: MemberInput, layout: FixedWidthLayout): AsyncGenerator<MemberItem> {
  const slices: Slice[] = layout.columns.map((c) => ({ from: c.start - 1, to: 'end' in c ? c.end : c.start - 1 + c.length }));
  const recordLength = Math.max(...slices.map((s) => s.to));
  const mapper = compileRowMapper(
    layout,
    layout.columns.map((c) => c.name),
    0,
  );
  const splitter = new LineSplitter();
  const lines: PhysicalLine[] = [];

  const handle = (l: PhysicalLine): MemberItem | undefined => {
    if (l.line <= layout.skipLines || l.text.trim() === '') return undefined;
    const values = slices.map((s) => l.text.slice(s.from, s.to));
    if (l.text.length < recordLength && layout.shortLines === 'error' && mapper.isMemberRow(values)) {
      const reason = `line has ${l.text.length} characters, the layout needs ${recordLength}`;
      const memberId = mapper.memberIdOf(values);
      return { kind: 'error', error: memberId ? { line: l.line, reason, memberId } : { line: l.line, reason } };
    }
    return mapper.map(values, l.line);
  };

  for await (const text of decodeText(input, layout.encoding)) {
    splitter.push(text, lines);
    for (const l of lines) {
      const item = handle(l);
      if (item) yield item;
    }
    lines.length = 0;
  }
  splitter.finish(lines);
  for (const l of lines) {
    const item = handle(l);
    if (item) yield item;
  }
}
