import { isAscii, isUtf8 } from 'node:buffer';
import { Hl7ParseError } from './errors.js';

export interface DecodedPayload {
  text: string;
  /** The character set that was applied, normalized (e.g. 'UTF-8', 'ISO-8859-1', 'ASCII'). */
  charset: string;
  warnings: string[];
}

const LATIN = /^8859\/(\d{1,2})$/;

/**
 * Turns received bytes into text according to MSH-18. Pure-ASCII payloads (the vast majority)
 * take the fast path. With non-ASCII bytes:
 *  - `UNICODE UTF-8` (or `UTF-8`): must be valid UTF-8, else an error naming the byte offset;
 *  - `8859/n`: decoded as ISO-8859-n;
 *  - `ASCII` declared: a non-ASCII byte is an error with its offset;
 *  - nothing or an unknown value declared: UTF-8 if valid, else ISO-8859-1 with a warning
 *    (common in legacy feeds).
 */
export function decodeHl7Bytes(bytes: Uint8Array): DecodedPayload {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Fast path: pure ASCII (native check) decodes the same under every supported charset.
  if (isAscii(buf)) return { text: buf.toString('latin1'), charset: 'ASCII', warnings: [] };
  const firstHigh = firstNonAscii(buf);
  const declared = readDeclaredCharset(buf);

  const cs = declared.toUpperCase();
  if (cs === 'UNICODE UTF-8' || cs === 'UTF-8' || cs === 'UNICODE' || cs === 'UTF8') {
    if (!isUtf8(buf)) {
      const at = firstInvalidUtf8(buf);
      throw new Hl7ParseError('CHARSET', `byte 0x${hex(buf[at])} at offset ${at} is not valid UTF-8 (MSH-18 = ${declared})`, {
        offset: at,
      });
    }
    return { text: buf.toString('utf8'), charset: 'UTF-8', warnings: [] };
  }
  const latin = LATIN.exec(cs);
  if (latin) {
    const label = `iso-8859-${latin[1]}`;
    if (latin[1] === '1') return { text: buf.toString('latin1'), charset: 'ISO-8859-1', warnings: [] };
    try {
      return { text: new TextDecoder(label, { fatal: true }).decode(buf), charset: label.toUpperCase(), warnings: [] };
    } catch {
      throw new Hl7ParseError('CHARSET', `bytes cannot be decoded as ${declared} (MSH-18)`, { offset: firstHigh });
    }
  }
  if (cs === 'ASCII') {
    throw new Hl7ParseError('CHARSET', `byte 0x${hex(buf[firstHigh])} at offset ${firstHigh} is not ASCII (MSH-18 = ASCII)`, {
      offset: firstHigh,
    });
  }
  // Unknown or absent MSH-18: senders put all sorts of things there (language codes, typos).
  const why = cs === '' ? 'no MSH-18' : `unrecognized MSH-18 '${declared}'`;
  if (isUtf8(buf)) return { text: buf.toString('utf8'), charset: 'UTF-8', warnings: cs === '' ? [] : [`${why}; read as UTF-8`] };
  return {
    text: buf.toString('latin1'),
    charset: 'ISO-8859-1',
    warnings: [`${why} and bytes are not UTF-8 (first at offset ${firstHigh}); read as ISO-8859-1`],
  };
}

function firstNonAscii(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) if (buf[i] > 0x7f) return i;
  return -1;
}

/** Finds MSH-18 in the first MSH of the payload without decoding the whole payload. */
function readDeclaredCharset(buf: Buffer): string {
  const at = buf.indexOf('MSH');
  if (at < 0 || at + 4 >= buf.length) return '';
  const sep = buf[at + 3];
  let field = 2; // the separator at at+3 is MSH-1; MSH-2 starts right after it
  let i = at + 4;
  let start = -1;
  for (; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x0d || b === 0x0a) break;
    if (b === sep) {
      field++;
      if (field === 18) start = i + 1;
      else if (field === 19) break;
    }
  }
  if (start < 0) return '';
  // MSH-18 may repeat (first = default charset); keep the first repetition, first component.
  const value = buf.toString('latin1', start, i);
  const rep = value.split(/[~^]/)[0];
  return rep.trim();
}

function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    let n: number;
    if (b < 0x80) n = 0;
    else if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) n = 2;
    else if (b >= 0xf0 && b <= 0xf4) n = 3;
    else return i;
    for (let k = 1; k <= n; k++) if (i + k >= buf.length || (buf[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return buf.length;
}

const hex = (b: number | undefined) => (b ?? 0).toString(16).padStart(2, '0').toUpperCase();
