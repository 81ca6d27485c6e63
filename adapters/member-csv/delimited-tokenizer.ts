/**
 * Streaming RFC 4180 tokenizer: quoted fields, "" escapes, delimiters and line breaks inside
 * quotes, CRLF / LF / lone CR line ends. Text is pushed chunk by chunk and rows are pulled one
 * at a time; a row cut by a chunk boundary is parsed again from its start once more text arrives
 * (rows are short, so the rescan is cheap, and only the unread text is buffered).
 *
 * Leniency, chosen so one bad row never costs the rest of the file: a quote inside an unquoted
 * field is plain text; a row with bad quoting (text after a closing quote, a quote never closed,
 * a row longer than maxRowChars) is reported and parsing resumes at the physical line after the
 * row's first line.
 */

export type TokenizedRow =
  /** `line`: the physical line the row starts on (1-based). */
  { line: number; fields: string[]; error?: undefined } | { line: number; fields?: undefined; error: string };

export interface TokenizerOptions {
  delimiter: string;
  /** null: no quoting at all. */
  quote: string | null;
  maxRowChars: number;
  /** Physical lines to drop before the first row. */
  skipLines?: number;
}

const LF = 10;
const CR = 13;
const NEED_MORE = null;

type RowResult = { fields: string[]; end: number; breaks: number; error?: undefined } | { error: string; fields?: undefined };

export class DelimitedTokenizer {
  private buf = '';
  private pos = 0;
  private final = false;
  /** Physical line number at `pos`. */
  private line = 1;
  private linesToSkip: number;
  /** Dropping the rest of a physical line after a bad row. */
  private discarding = false;
  private readonly delim: number;
  private readonly quoteCode: number;
  private readonly quoteChar: string;
  private readonly maxRowChars: number;

  constructor(opts: TokenizerOptions) {
    if (opts.delimiter.length !== 1) throw new Error('delimiter must be one character');
    this.delim = opts.delimiter.charCodeAt(0);
    this.quoteChar = opts.quote ?? '';
    this.quoteCode = opts.quote ? opts.quote.charCodeAt(0) : -1;
    this.maxRowChars = opts.maxRowChars;
    this.linesToSkip = opts.skipLines ?? 0;
  }

  /** Appends text; read the rows it completes with next(). */
  push(text: string): void {
    this.buf = this.pos >= this.buf.length ? text : this.buf.slice(this.pos) + text;
    this.pos = 0;
  }

  /** No more text: next() now also returns the last row (without a trailing line break). */
  end(): void {
    this.final = true;
  }

  /**
   * The next complete row, or undefined when more text is needed (or, after end(), when done).
   * Pull-based on purpose: a caller that maps and hands on each row before asking for the next
   * keeps one row alive at a time, not the thousands a 1 MiB chunk holds.
   */
  next(): TokenizedRow | undefined {
    const s = this.buf;
    const n = s.length;
    const final = this.final;
    while (this.pos < n) {
      if (this.discarding || this.linesToSkip > 0) {
        const next = lineEndAfter(s, this.pos, final);
        if (next < 0) {
          // Line not finished yet: drop what we have (keeping a trailing CR that may pair with LF).
          this.pos = s.charCodeAt(n - 1) === CR ? n - 1 : n;
          return undefined;
        }
        this.pos = next;
        this.line++;
        if (this.discarding) this.discarding = false;
        else this.linesToSkip--;
        continue;
      }
      const r = this.row(s, this.pos, final);
      if (r === NEED_MORE) {
        if (n - this.pos <= this.maxRowChars) return undefined;
        this.discarding = true;
        return { line: this.line, error: `row is longer than ${this.maxRowChars} characters (a quote never closed?)` };
      }
      if (r.error !== undefined) {
        this.discarding = true;
        return { line: this.line, error: r.error };
      }
      const line = this.line;
      this.line += r.breaks;
      this.pos = r.end;
      return { line, fields: r.fields };
    }
    return undefined;
  }

  /** One row starting at `start`, or NEED_MORE when the text ends before the row does. */
  private row(s: string, start: number, final: boolean): RowResult | typeof NEED_MORE {
    const n = s.length;
    const D = this.delim;
    const Q = this.quoteCode;
    const fields: string[] = [];
    let breaks = 0;
    let i = start;
    let lineEnd: number;
    for (;;) {
      if (i < n && s.charCodeAt(i) === Q) {
        let value = '';
        let from = i + 1;
        let close: number;
        for (;;) {
          close = s.indexOf(this.quoteChar, from);
          if (close < 0) {
            if (!final) return NEED_MORE;
            return { error: `column ${fields.length + 1}: quoted field is never closed` };
          }
          if (close + 1 >= n && !final) return NEED_MORE; // the next char may be the second quote of ""
          if (close + 1 < n && s.charCodeAt(close + 1) === Q) {
            value += s.slice(from, close + 1);
            from = close + 2;
            continue;
          }
          value += s.slice(from, close);
          break;
        }
        breaks += countLineBreaks(s, i + 1, close);
        fields.push(value);
        i = close + 1;
        if (i >= n) return { fields, end: n, breaks };
        const c = s.charCodeAt(i);
        if (c === D) {
          i++;
          continue;
        }
        if (c === LF || c === CR) {
          lineEnd = i;
          break;
        }
        return { error: `column ${fields.length}: text after the closing quote` };
      }
      let j = i;
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c === D || c === LF || c === CR) break;
        j++;
      }
      if (j >= n) {
        if (!final) return NEED_MORE;
        fields.push(s.slice(i, j));
        return { fields, end: n, breaks };
      }
      fields.push(s.slice(i, j));
      if (s.charCodeAt(j) === D) {
        i = j + 1;
        continue;
      }
      lineEnd = j;
      break;
    }
    const next = lineEndAfter(s, lineEnd, final);
    if (next < 0) return NEED_MORE;
    return { fields, end: next, breaks: breaks + 1 };
  }
}

/**
 * Index just after the first line break at or after `from`; -1 when the text ends first (or ends
 * in a CR that may be half of a CRLF) and more may come; the text length when it is final.
 */
function lineEndAfter(s: string, from: number, final: boolean): number {
  const n = s.length;
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === LF) return i + 1;
    if (c === CR) {
      if (i + 1 < n) return s.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      return final ? n : -1;
    }
  }
  return final ? n : -1;
}

/** Physical line breaks in s[from, to): LF, CRLF and lone CR each count once. */
function countLineBreaks(s: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === LF) count++;
    else if (c === CR && (i + 1 >= to || s.charCodeAt(i + 1) !== LF)) count++;
  }
  return count;
}
