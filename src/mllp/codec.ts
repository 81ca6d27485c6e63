/**
 * MLLP framing (HL7 v2 Minimal Lower Layer Protocol): <VT> payload <FS><CR>.
 *
 * Bytes only — nothing here knows about HL7 content.
 *
 * Decoder decisions (see src/mllp/README.md):
 * - A frame ends at <FS>. MLLP forbids <VT> and <FS> inside the payload, so <FS> is unambiguous and the
 *   frame is emitted at once; waiting for the trailing <CR> would only let a sender that omits it hang
 *   until its ACK timeout. The <CR> is still expected: any other byte after <FS> is reported as a
 *   'missing-trailer' issue (the frame is kept) and then read as the start of the inter-frame gap.
 * - Between frames, CR and LF are skipped silently (senders commonly add a newline); anything else is
 *   reported as 'garbage' with its byte count and skipped.
 * - A <VT> inside an open frame means the sender abandoned the frame and started a new one: the partial
 *   frame is dropped ('unterminated-frame') and decoding resyncs on that <VT>.
 * - An empty frame (<VT><FS>) carries nothing to acknowledge: it is reported ('empty-frame'), not emitted.
 * - Oversize: as soon as a payload grows past maxMessageBytes, onOversize is called once with the first
 *   bytes of the frame (enough for a NACK that echoes MSH-10), everything buffered is released, and the
 *   rest of that frame is discarded until its <FS> — or until a <VT>, which starts a new frame.
 *   Memory per decoder is therefore bounded by maxMessageBytes (plus the chunk being scanned).
 */
import { MllpError } from './errors.js';

export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;
const LINE_FEED = 0x0a;

/** 10 MiB: room for HL7 messages carrying embedded documents (OBX ED), yet bounded per connection. */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** How much of an oversize frame is handed to onOversize: MSH is always first and far shorter. */
export const OVERSIZE_HEAD_BYTES = 4096;

/** Wraps a payload in an MLLP frame. Rejects payloads containing <VT> or <FS>, which would desync the peer. */
export function encodeFrame(payload: Buffer): Buffer {
  if (payload.indexOf(START_BLOCK) !== -1 || payload.indexOf(END_BLOCK) !== -1) {
    throw new MllpError('INVALID_PAYLOAD', 'MLLP payload must not contain the start block (0x0B) or end block (0x1C) byte');
  }
  const frame = Buffer.allocUnsafe(payload.length + 3);
  frame[0] = START_BLOCK;
  payload.copy(frame, 1);
  frame[payload.length + 1] = END_BLOCK;
  frame[payload.length + 2] = CARRIAGE_RETURN;
  return frame;
}

export type ProtocolIssueKind = 'garbage' | 'empty-frame' | 'missing-trailer' | 'unterminated-frame';

export interface ProtocolIssue {
  kind: ProtocolIssueKind;
  /** Bytes skipped or dropped because of this issue (0 for 'missing-trailer'). */
  bytes: number;
}

export interface OversizeFrame {
  /** The configured maximum payload size. */
  limit: number;
  /** Payload bytes received when the limit was crossed (> limit; the frame may be longer still). */
  receivedBytes: number;
  /** A copy of the first bytes of the payload (at most OVERSIZE_HEAD_BYTES), e.g. to echo MSH-10 in a NACK. */
  head: Buffer;
}

export interface MllpDecoderOptions {
  /** Largest accepted payload in bytes (frame bytes excluded). Default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  /** A complete, non-empty payload. It may share memory with the pushed chunk (zero-copy); do not mutate it. */
  onFrame: (payload: Buffer) => void;
  onOversize?: (frame: OversizeFrame) => void;
  onIssue?: (issue: ProtocolIssue) => void;
}

type DecoderState =
  /** Between frames, looking for <VT>. */
  | 'hunt'
  /** Inside a frame, collecting payload until <FS>. */
  | 'in-frame'
  /** Inside an oversize frame, dropping bytes until <FS> or a new <VT>. */
  | 'discard'
  /** Just saw <FS>; the next byte should be <CR>. */
  | 'after-end';

/**
 * Streaming MLLP decoder: push socket chunks in, receive payloads through callbacks (called
 * synchronously from push; they must not call push themselves).
 */
export class MllpDecoder {
  readonly maxMessageBytes: number;
  private readonly onFrame: (payload: Buffer) => void;
  private readonly onOversize: (frame: OversizeFrame) => void;
  private readonly onIssue: (issue: ProtocolIssue) => void;

  private state: DecoderState = 'hunt';
  /** Pieces of the open frame from earlier chunks (subarrays, not copies). */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private started = 0;

  constructor(options: MllpDecoderOptions) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError('maxMessageBytes must be a positive integer');
    }
    this.maxMessageBytes = max;
    this.onFrame = options.onFrame;
    this.onOversize = options.onOversize ?? (() => {});
    this.onIssue = options.onIssue ?? (() => {});
  }

  /** Bytes of an unfinished frame currently held. */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  /** True while a frame has started (or is being discarded) and its end block has not arrived. */
  get hasPartialFrame(): boolean {
    return this.state === 'in-frame' || this.state === 'discard';
  }

  /** Start blocks that opened a frame so far (a frame deadline restarts when this changes). */
  get framesStarted(): number {
    return this.started;
  }

  /** Drops any partial frame and starts over between frames (e.g. after a reconnect). */
  reset(): void {
    this.state = 'hunt';
    this.clearParts();
  }

  push(chunk: Buffer): void {
    const length = chunk.length;
    let pos = 0;
    while (pos < length) {
      switch (this.state) {
        case 'after-end': {
          if (chunk[pos] === CARRIAGE_RETURN) {
            pos += 1;
          } else {
            this.onIssue({ kind: 'missing-trailer', bytes: 0 });
          }
          this.state = 'hunt';
          break;
        }
        case 'hunt': {
          const start = chunk.indexOf(START_BLOCK, pos);
          const gapEnd = start === -1 ? length : start;
          const garbage = countGarbage(chunk, pos, gapEnd);
          if (garbage > 0) this.onIssue({ kind: 'garbage', bytes: garbage });
          if (start === -1) return;
          pos = start + 1;
          this.state = 'in-frame';
          this.started++;
          break;
        }
        case 'in-frame':
          pos = this.readFrameBytes(chunk, pos);
          break;
        case 'discard':
          pos = this.discardFrameBytes(chunk, pos);
          break;
      }
    }
  }

  /** Consumes payload bytes from pos; returns the next position to read. */
  private readFrameBytes(chunk: Buffer, pos: number): number {
    const end = chunk.indexOf(END_BLOCK, pos);
    const stop = end === -1 ? chunk.length : end;
    const restart = indexWithin(chunk, START_BLOCK, pos, stop);
    if (restart !== -1) {
      // A new start block before this frame ended: the sender gave up on it. Resync there.
      const dropped = this.partsBytes + (restart - pos);
      this.clearParts();
      this.state = 'in-frame';
      this.started++;
      this.onIssue({ kind: 'unterminated-frame', bytes: dropped });
      return restart + 1;
    }

    const piece = chunk.subarray(pos, stop);
    const total = this.partsBytes + piece.length;
    if (total > this.maxMessageBytes) {
      const head = Buffer.concat([...this.parts, piece], Math.min(total, OVERSIZE_HEAD_BYTES, this.maxMessageBytes));
      this.clearParts();
      this.state = end === -1 ? 'discard' : 'after-end';
      this.onOversize({ limit: this.maxMessageBytes, receivedBytes: total, head });
      return end === -1 ? chunk.length : end + 1;
    }

    if (end === -1) {
      if (piece.length > 0) {
        this.parts.push(piece);
        this.partsBytes = total;
      }
      return chunk.length;
    }

    let payload: Buffer;
    if (this.parts.length === 0) {
      payload = piece; // the common case: whole frame in one chunk, no copy
    } else {
      this.parts.push(piece);
      payload = Buffer.concat(this.parts, total);
    }
    this.clearParts();
    this.state = 'after-end';
    if (payload.length === 0) {
      this.onIssue({ kind: 'empty-frame', bytes: 2 });
    } else {
      this.onFrame(payload);
    }
    return end + 1;
  }

  /** Skips the rest of an oversize frame; a new start block resyncs. */
  private discardFrameBytes(chunk: Buffer, pos: number): number {
    const end = chunk.indexOf(END_BLOCK, pos);
    const stop = end === -1 ? chunk.length : end;
    const restart = indexWithin(chunk, START_BLOCK, pos, stop);
    if (restart !== -1) {
      this.state = 'in-frame';
      this.started++;
      return restart + 1;
    }
    if (end === -1) return chunk.length;
    this.state = 'after-end';
    return end + 1;
  }

  private clearParts(): void {
    this.parts = [];
    this.partsBytes = 0;
  }
}

/** indexOf limited to [from, to) without scanning past `to`. */
function indexWithin(chunk: Buffer, byte: number, from: number, to: number): number {
  if (from >= to) return -1;
  const found = chunk.subarray(from, to).indexOf(byte);
  return found === -1 ? -1 : from + found;
}

/** Bytes in [from, to) other than CR/LF — the inter-frame newline some senders add is not garbage. */
function countGarbage(chunk: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const byte = chunk[i];
    if (byte !== CARRIAGE_RETURN && byte !== LINE_FEED) count++;
  }
  return count;
}
