/**
 * X12 834 (5010 X220A1) benefit enrollment files: one MemberItem per INS (loop 2000), streamed
 * segment by segment. INS-03 021/001/025/030 → upsert, 024 → terminate. Envelope counts and
 * control numbers are checked; a mismatch is a warning, not a stop.
 */
import { decodeText } from '../member-common/decode-text.js';
import type { X12Layout } from '../member-common/layout-schema.js';
import type { MemberInput, MemberItem } from '../member-common/types.js';
import { EnvelopeChecker } from './envelope.js';
import { compileX12Mapper } from './map-member.js';
import { MemberAssembler } from './member-assembler.js';
import { SegmentSplitter, type X12Segment } from './segment-splitter.js';

export async function* readX12Members(input: MemberInput, layout: X12Layout): AsyncGenerator<MemberItem> {
  const splitter = new SegmentSplitter();
  const envelope = new EnvelopeChecker();
  const assembler = new MemberAssembler();
  const mapMember = compileX12Mapper(layout);
  const segments: X12Segment[] = [];
  let lastSegment = 0;
  let separatorWarned = false;

  function* handle(seg: X12Segment): Generator<MemberItem> {
    lastSegment = seg.n;
    if (!separatorWarned && splitter.warning) {
      separatorWarned = true;
      yield { kind: 'warning', warning: { line: 1, reason: splitter.warning } };
    }
    if (seg.el[0] === 'ST' && (seg.el[1] ?? '').trim() !== '834') {
      yield { kind: 'warning', warning: { line: seg.n, reason: 'ST-01: not an 834 transaction set; skipped' } };
    }
    const done = assembler.accept(seg);
    if (done) yield mapMember(done, assembler.header);
    for (const warning of envelope.accept(seg)) yield { kind: 'warning', warning };
  }

  for await (const text of decodeText(input, layout.encoding)) {
    splitter.push(text, segments);
    for (const seg of segments) yield* handle(seg);
    segments.length = 0;
  }
  splitter.finish(segments);
  for (const seg of segments) yield* handle(seg);

  const open = assembler.finish();
  if (open) {
    // Its SE never came: the member's later segments (coverage, dates) may be missing.
    const item = mapMember(open, assembler.header);
    const memberId = item.kind === 'record' ? item.record.memberId : item.kind === 'error' ? item.error.memberId : undefined;
    const reason = 'the transaction set ends without SE (file cut off?): member may be incomplete';
    yield { kind: 'error', error: memberId ? { line: open.line, reason, memberId } : { line: open.line, reason } };
  }
  for (const warning of envelope.finish(lastSegment)) yield { kind: 'warning', warning };
}
