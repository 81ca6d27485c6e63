/**
 * Splits a byte stream into HL7 v2 messages: a single message, concatenated messages (with or
 * without blank lines between them), or FHS/BHS...BTS/FTS batch files. Works chunk by chunk so a
 * file of a million messages is never held in memory; each message keeps its exact bytes.
 */

export interface SplitMessage {
  kind: 'message';
  bytes: Buffer;
  /** 1-based message number in the stream. */
  index: number;
  /** 1-based line where the message's MSH starts. */
  line: number;
}

/** Bytes outside any message that are not batch envelope segments (reported, never silently dropped). */
export interface SplitJunk {
  kind: 'junk';
  line: number;
  reason: string;
}

export type SplitItem = SplitMessage | SplitJunk;

const CR = 13;
const LF = 10;
const VT = 0x0b;
const FS = 0x1c;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export class MessageSplitter {
  private tail: Buffer | undefined;
  private parts: Buffer[] = [];
  /** The open message: where it starts, whether a start byte opened it and whether its end byte came. */
  private current: { line: number; framed: boolean; ended: boolean } | undefined;
  /** A start byte was seen and no content since: the next MSH is framed. */
  private afterStartByte = false;
  private lineNo = 0;
  private messageCount = 0;
  private firstChunk = true;
  private batch: { messages: number; header: 'BHS' } | undefined;
  private file: { batches: number } | undefined;
  /** Trailer count mismatches and other non-fatal findings, in order. */
  readonly warnings: string[] = [];

  push(chunk: Buffer): SplitItem[] {
    const out: SplitItem[] = [];
    let buf = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    this.tail = undefined;
    if (this.firstChunk && buf.length > 0) {
      // A BOM may arrive split across the first chunks: wait for three bytes before deciding.
      if (buf.length < 3 && BOM.subarray(0, buf.length).equals(buf)) {
        this.tail = buf;
        return out;
      }
      this.firstChunk = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    let pos = 0;
    while (pos < buf.length) {
      const end = nextTerminator(buf, pos);
      if (end < 0) {
        this.tail = buf.subarray(pos);
        break;
      }
      this.onLine(buf.subarray(pos, end + 1), out);
      pos = end + 1;
    }
    return out;
  }

  end(): SplitItem[] {
    const out: SplitItem[] = [];
    if (this.tail && this.tail.length > 0) this.onLine(this.tail, out);
    this.tail = undefined;
    this.flush(out);
    if (this.batch) this.warnings.push(`batch not closed by BTS (${this.batch.messages} messages)`);
    if (this.file) this.warnings.push(`file not closed by FTS (${this.file.batches} batches)`);
    return out;
  }

  /**
   * One line including its terminator byte. A start byte (0x0B) inside it begins a new message,
   * as on an MLLP connection: the message it interrupts is reported as cut off, never converted
   * with the next message's bytes inside it nor silently dropped.
   */
  private onLine(line: Buffer, out: SplitItem[]): void {
    this.lineNo++;
    let from = 0;
    for (let vt = line.indexOf(VT); vt !== -1; vt = line.indexOf(VT, from)) {
      const before = line.subarray(from, vt);
      if (before.length > 0) this.onLinePart(before, out);
      this.onStartByte(!isBlankLine(before), out);
      from = vt + 1;
    }
    if (from === 0) this.onLinePart(line, out);
    else if (from < line.length) this.onLinePart(line.subarray(from), out);
  }

  private onLinePart(line: Buffer, out: SplitItem[]): void {
    let s = 0;
    while (s < line.length && (line[s] === 0x20 || line[s] === 0x09)) s++;
    const id = line.length - s >= 3 ? line.toString('latin1', s, s + 3) : '';
    if (id === 'MSH') {
      this.flush(out);
      this.current = { line: this.lineNo, framed: this.afterStartByte, ended: false };
      this.afterStartByte = false;
      this.parts.push(line);
      if (line.includes(FS)) this.current.ended = true;
      return;
    }
    if (line.includes(FS) && this.current) this.current.ended = true;
    if (!isBlankLine(line)) this.afterStartByte = false;
    if (id === 'FHS' || id === 'BHS' || id === 'BTS' || id === 'FTS') {
      this.flush(out);
      this.onEnvelope(id, line.toString('latin1', s), out);
      return;
    }
    if (this.current) {
      this.parts.push(line);
      return;
    }
    if (!isBlankLine(line)) {
      out.push({ kind: 'junk', line: this.lineNo, reason: `line ${this.lineNo} is outside any message (no MSH before it)` });
    }
  }

  /**
   * A start byte: the open message ends here. It is complete when its end byte (0x1C) came, or
   * when it was not framed and the start byte begins a line (concatenated messages); otherwise it
   * was cut off.
   */
  private onStartByte(midLine: boolean, out: SplitItem[]): void {
    const open = this.current;
    this.afterStartByte = true;
    if (!open) return;
    if (open.ended || (!open.framed && !midLine)) {
      this.flush(out);
      return;
    }
    this.messageCount++;
    if (this.batch) this.batch.messages++;
    const controlId = scrapeControlId(this.parts[0]);
    out.push({
      kind: 'junk',
      line: open.line,
      reason: `message ${this.messageCount} (line ${open.line}${controlId ? `, MSH-10 ${controlId}` : ''}) was cut off: a start byte (0x0B) at line ${this.lineNo} begins another message before it ended; not converted`,
    });
    this.parts = [];
    this.current = undefined;
  }

  private onEnvelope(id: string, text: string, out: SplitItem[]): void {
    void out;
    const sep = text[3] ?? '|';
    const field1 = text.replace(/[\r\n\x1c]+$/, '').split(sep)[1] ?? '';
    switch (id) {
      case 'FHS':
        this.file = { batches: 0 };
        break;
      case 'BHS':
        if (this.batch) this.warnings.push(`BHS at line ${this.lineNo} before the previous batch's BTS`);
        this.batch = { messages: 0, header: 'BHS' };
        if (this.file) this.file.batches++;
        break;
      case 'BTS': {
        const declared = field1.trim();
        const seen = this.batch?.messages ?? 0;
        if (!this.batch) this.warnings.push(`BTS at line ${this.lineNo} without a BHS`);
        else if (declared === '') this.warnings.push(`BTS at line ${this.lineNo} has no message count (BTS-1); batch had ${seen}`);
        else if (Number(declared) !== seen) {
          this.warnings.push(`BTS-1 at line ${this.lineNo} declares ${declared} messages but the batch has ${seen}`);
        }
        this.batch = undefined;
        break;
      }
      case 'FTS': {
        const declared = field1.trim();
        const seen = this.file?.batches ?? 0;
        if (!this.file) this.warnings.push(`FTS at line ${this.lineNo} without an FHS`);
        else if (declared !== '' && Number(declared) !== seen) {
          this.warnings.push(`FTS-1 at line ${this.lineNo} declares ${declared} batches but the file has ${seen}`);
        }
        this.file = undefined;
        break;
      }
    }
  }

  private flush(out: SplitItem[]): void {
    if (!this.current) return;
    const bytes = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.messageCount++;
    if (this.batch) this.batch.messages++;
    out.push({ kind: 'message', bytes, index: this.messageCount, line: this.current.line });
    this.parts = [];
    this.current = undefined;
  }
}

function nextTerminator(buf: Buffer, from: number): number {
  const cr = buf.indexOf(CR, from);
  const lf = buf.indexOf(LF, from);
  let end: number;
  if (cr < 0) end = lf;
  else if (lf < 0) end = cr;
  else end = Math.min(cr, lf);
  if (end < 0) return -1;
  // Keep CRLF together so a message's bytes end with its own full terminator.
  if (buf[end] === CR && end + 1 < buf.length && buf[end + 1] === LF) return end + 1;
  if (buf[end] === CR && end + 1 === buf.length) return -1; // might be CRLF split across chunks
  return end;
}

/** MSH-10 of a message's first line, for naming a message that cannot be parsed (no PHI). */
function scrapeControlId(msh: Buffer | undefined): string {
  if (!msh) return '';
  const text = msh.toString('latin1', 0, Math.min(msh.length, 1024));
  const fields = text.replace(/^[ \t]+/, '').split(text.replace(/^[ \t]+/, '')[3] ?? '|');
  return (fields[9] ?? '').split(/[\r\n^]/)[0].slice(0, 64);
}

function isBlankLine(line: Buffer): boolean {
  for (const b of line) if (b !== CR && b !== LF && b !== 0x20 && b !== 0x09 && b !== FS && b !== VT) return false;
  return true;
}

/** Splits an in-memory payload (e.g. an HTTP body) the same way. */
export function splitMessages(payload: Buffer | string): { items: SplitItem[]; warnings: string[] } {
  const s = new MessageSplitter();
  const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const items = [...s.push(buf), ...s.end()];
  return { items, warnings: s.warnings };
}

/** Async iteration over a readable byte stream (file, socket). */
export async function* readMessages(stream: AsyncIterable<Buffer | string>, splitter = new MessageSplitter()): AsyncGenerator<SplitItem> {
  for await (const chunk of stream) {
    yield* splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  yield* splitter.end();
}
