/**
 * Splits streamed text into physical lines (LF, CRLF or a lone CR) with 1-based line numbers,
 * for formats without quoting (fixed-width). A CR at the end of a chunk waits for the next one,
 * so a CRLF split across chunks is still one line break.
 */
export interface PhysicalLine {
  line: number;
  text: string;
}

export class LineSplitter {
  private rest = '';
  private lineNo = 0;

  /** Appends the lines completed by `text` to `out`. */
  push(text: string, out: PhysicalLine[]): void {
    const s = this.rest + text;
    let start = 0;
    const n = s.length;
    // Positions of the next LF / CR, searched again only once passed: a file without CRs must not
    // cost a scan to the end of the chunk per line.
    let lf = -2;
    let cr = -2;
    for (;;) {
      if (lf !== -1 && lf < start) lf = s.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = s.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        if (cr + 1 >= n) break; // could be half of a CRLF
        end = cr;
        next = s.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      } else if (lf >= 0) {
        end = lf;
        next = lf + 1;
      } else break;
      out.push({ line: ++this.lineNo, text: s.slice(start, end) });
      start = next;
    }
    this.rest = s.slice(start);
  }

  /** The last line when the file does not end with a line break. */
  finish(out: PhysicalLine[]): void {
    const s = this.rest;
    this.rest = '';
    // A CR held back (it might have been half of a CRLF) ends a line after all.
    if (s.endsWith('\r')) out.push({ line: ++this.lineNo, text: s.slice(0, -1) });
    else if (s.length > 0) out.push({ line: ++this.lineNo, text: s });
  }
}
