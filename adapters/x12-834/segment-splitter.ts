/**
 * Streams X12 text into segments numbered from 1 (the ISA) across the whole file. Line breaks
 * and spaces between segments are cosmetic and dropped; a line break inside a segment is kept
 * and flagged, since X12 does not allow one there (pyx12 rejects it too).
 */
import { MemberFileError } from '../member-common/types.js';
import { detectSeparators, type X12Separators } from './separators.js';

const MAX_SEGMENT_CHARS = 1 << 20;

export interface X12Segment {
  /** 1-based position in the file (ISA = 1). */
  n: number;
  /** el[0] is the segment id; el[k] is element k, as X12 numbers them. Untrimmed. */
  el: string[];
  /** The segment text had a CR or LF inside it. */
  lineBreak: boolean;
}

export class SegmentSplitter {
  private rest = '';
  private count = 0;
  private sep: X12Separators | undefined;
  /** Set once separators are known, when the ISA itself looked odd. */
  warning: string | undefined;

  push(text: string, out: X12Segment[]): void {
    this.rest = this.rest.length === 0 ? text : this.rest + text;
    this.drain(false, out);
  }

  finish(out: X12Segment[]): void {
    this.drain(true, out);
    const last = this.rest.trim();
    this.rest = '';
    if (last && this.sep) this.emit(last, out);
    if (!this.sep && !last) throw new MemberFileError(0, 'the file is empty');
  }

  private drain(final: boolean, out: X12Segment[]): void {
    if (!this.sep) {
      const s = this.rest.replace(/^[\uFEFF\s]+/, '');
      const r = detectSeparators(s, final);
      if (r.kind === 'need-more') return;
      if (r.kind === 'invalid') throw new MemberFileError(1, r.reason);
      this.sep = r.separators;
      this.warning = r.warning;
      this.rest = s;
    }
    const term = this.sep.segment;
    const s = this.rest;
    let start = 0;
    for (;;) {
      const end = s.indexOf(term, start);
      if (end < 0) break;
      const seg = s.slice(start, end);
      start = end + 1;
      const trimmed = seg.replace(/^\s+/, '');
      if (trimmed) this.emit(trimmed, out);
    }
    this.rest = s.slice(start);
    // No real segment comes near this: the terminator read from the ISA must be wrong.
    if (this.rest.length > MAX_SEGMENT_CHARS)
      throw new MemberFileError(this.count + 1, 'a segment runs past 1 MiB: the ISA segment terminator does not match the file');
  }

  private emit(text: string, out: X12Segment[]): void {
    const lineBreak = /[\r\n]/.test(text.trimEnd());
    out.push({ n: ++this.count, el: text.trimEnd().split(this.sep!.element), lineBreak });
  }
}
