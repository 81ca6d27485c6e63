import { decodeHl7Bytes } from './charset.js';
import { readDelimiters, type Delimiters } from './delimiters.js';
import { Hl7ParseError } from './errors.js';
import { compilePath, type Hl7Path } from './path.js';
import { Segment } from './segment.js';

export interface ParseOptions {
  /** Largest accepted message in characters (default 16 MiB). */
  maxLength?: number;
  /** Require MSH-9 (message type) and MSH-10 (control id); default true. */
  requireHeaderFields?: boolean;
}

const DEFAULT_MAX = 16 * 1024 * 1024;
const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;

/**
 * A parsed HL7 v2 message. Parsing finds segment boundaries and the delimiters; fields are
 * located only when read. The original text is kept, so an unmodified message encodes back
 * byte for byte, including its segment terminators (CR, LF, CRLF or a mix) and blank lines.
 */
export class Hl7Message {
  readonly segments: Segment[];
  /** Text before each segment (terminators, blank lines, BOM) and after the last, kept for round-trips. */
  private readonly gaps: string[];

  private constructor(
    readonly raw: string,
    readonly delimiters: Delimiters,
    segments: Segment[],
    gaps: string[],
    readonly charset: string,
    readonly warnings: string[],
  ) {
    this.segments = segments;
    this.gaps = gaps;
  }

  /** Parses one message from text or bytes (bytes are decoded per MSH-18). Throws Hl7ParseError only. */
  static parse(input: string | Uint8Array, options: ParseOptions = {}): Hl7Message {
    const max = options.maxLength ?? DEFAULT_MAX;
    let text: string;
    let charset = '';
    let warnings: string[] = [];
    if (typeof input === 'string') {
      text = input;
    } else {
      if (input.length > max) throw tooLarge(input.length, max);
      const decoded = decodeHl7Bytes(input);
      text = decoded.text;
      charset = decoded.charset;
      warnings = decoded.warnings;
    }
    if (text.length > max) throw tooLarge(text.length, max);
    return Hl7Message.fromText(text, charset, warnings, options.requireHeaderFields ?? true);
  }

  private static fromText(text: string, charset: string, warnings: string[], requireHeader: boolean): Hl7Message {
    let pos = 0;
    if (text.charCodeAt(0) === 0xfeff) pos = 1;
    // Skip blank lines and a stray MLLP start block before the header.
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 13 || c === 10 || c === 11 || c === 32 || c === 9) pos++;
      else break;
    }
    if (pos >= text.length) throw new Hl7ParseError('EMPTY', 'message is empty');
    if (!text.startsWith('MSH', pos)) {
      throw new Hl7ParseError('NO_MSH', 'message does not start with an MSH segment', { segment: 1, offset: pos });
    }
    const d = readDelimiters(text, pos);

    const segments: Segment[] = [];
    const gaps: string[] = [];
    let gapStart = 0;
    let lineNo = 0;
    // Next CR and LF positions, advanced only when passed: two native scans over the text in all.
    let nextCr = text.indexOf('\r', pos);
    let nextLf = text.indexOf('\n', pos);
    while (pos < text.length) {
      if (nextCr >= 0 && nextCr < pos) nextCr = text.indexOf('\r', pos);
      if (nextLf >= 0 && nextLf < pos) nextLf = text.indexOf('\n', pos);
      const end = nextCr < 0 ? (nextLf < 0 ? text.length : nextLf) : nextLf < 0 ? nextCr : Math.min(nextCr, nextLf);
      lineNo++;
      let lineEnd = end;
      // A trailing MLLP end block or spaces are not part of the segment.
      while (lineEnd > pos && isTrailingJunk(text.charCodeAt(lineEnd - 1))) lineEnd--;
      if (lineEnd > pos && !isBlank(text, pos, lineEnd)) {
        const name = text.slice(pos, pos + 3);
        if (!SEGMENT_ID.test(name) || (lineEnd > pos + 3 && text[pos + 3] !== d.field)) {
          throw new Hl7ParseError('BAD_SEGMENT', `line ${lineNo} does not start with a segment id followed by '${d.field}'`, {
            segment: segments.length + 1,
            offset: pos,
          });
        }
        gaps.push(text.slice(gapStart, pos));
        segments.push(new Segment(name, text, pos, lineEnd, d));
        gapStart = lineEnd;
      }
      pos = end;
      // Consume exactly one terminator: CR, LF or CRLF; further blank lines loop as empty lines.
      if (pos < text.length) {
        if (text.charCodeAt(pos) === 13 && text.charCodeAt(pos + 1) === 10) pos += 2;
        else pos += 1;
      }
    }
    gaps.push(text.slice(gapStart));

    const msg = new Hl7Message(text, d, segments, gaps, charset, warnings);
    if (requireHeader) {
      const msh = segments[0];
      if (!msh.get(9, 1, 1)) {
        throw new Hl7ParseError('MISSING_FIELD', 'MSH-9 (message type) is empty', { segment: 1, segmentName: 'MSH', field: 9 });
      }
      if (!msh.get(10)) {
        throw new Hl7ParseError('MISSING_FIELD', 'MSH-10 (message control id) is empty', {
          segment: 1,
          segmentName: 'MSH',
          field: 10,
        });
      }
    }
    return msg;
  }

  get msh(): Segment {
    return this.segments[0];
  }

  /** The n-th (1-based) segment with this name. */
  segment(name: string, occurrence = 1): Segment | undefined {
    let seen = 0;
    for (const s of this.segments) if (s.name === name && ++seen === occurrence) return s;
    return undefined;
  }

  segmentsNamed(name: string): Segment[] {
    return this.segments.filter((s) => s.name === name);
  }

  /** Reads a decoded value by terser path, e.g. `PID-3[2].4.2`, `PV1-44`, `OBX[2]-5`. */
  get(path: string | Hl7Path): string {
    const p = typeof path === 'string' ? compilePath(path) : path;
    const seg = this.segment(p.segment, p.occurrence);
    return seg ? seg.get(p.field, p.repetition, p.component, p.subcomponent) : '';
  }

  /** Sets a value by terser path; the segment must exist. */
  set(path: string, value: string): void {
    const p = compilePath(path);
    const seg = this.segment(p.segment, p.occurrence);
    if (!seg) throw new Hl7ParseError('BAD_PATH', `no ${p.segment} segment for path ${path}`);
    seg.set(p.field, value, p.repetition, p.component, p.subcomponent);
  }

  get messageType(): string {
    return this.msh.get(9, 1, 1);
  }
  get triggerEvent(): string {
    return this.msh.get(9, 1, 2);
  }
  get messageStructure(): string {
    return this.msh.get(9, 1, 3);
  }
  get controlId(): string {
    return this.msh.get(10);
  }
  get version(): string {
    return this.msh.get(12, 1, 1);
  }
  get processingId(): string {
    return this.msh.get(11, 1, 1);
  }
  /** MSH-3^MSH-4 namespace ids: who sent it, for dedupe keys and routing. */
  get sender(): string {
    return `${this.msh.get(3, 1, 1)}^${this.msh.get(4, 1, 1)}`;
  }

  /** The message text: the original when nothing was changed, else rebuilt with original terminators. */
  encode(): string {
    if (!this.segments.some((s) => s.modified)) return this.raw;
    let out = '';
    for (let i = 0; i < this.segments.length; i++) out += this.gaps[i] + this.segments[i].toString();
    return out + this.gaps[this.segments.length];
  }
}

function isBlank(text: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

function isTrailingJunk(c: number): boolean {
  return c === 0x1c || c === 0x0b;
}

function tooLarge(size: number, max: number): Hl7ParseError {
  return new Hl7ParseError('TOO_LARGE', `message of ${size} characters exceeds the limit of ${max}`);
}
