/**
 * Turns a byte stream into text chunks without ever holding the whole file. A byte-order mark
 * wins over the configured encoding (it is explicit evidence: Excel's "Unicode text" export is
 * UTF-16LE with a BOM) and is dropped from the text.
 */
import { TextDecoder } from 'node:util';
import type { MemberInput } from './types.js';

export type TextEncodingName = 'utf-8' | 'latin1' | 'windows-1252' | 'utf-16le';

/**
 * Text is handed on in pieces of at most this many bytes whatever the input's chunk size: V8
 * keeps strings this small in the young generation, where they die cheaply, while 1 MiB strings
 * go to the large-object space and pile up until a full GC (measured: ~100 MB more peak RSS on a
 * 1M-row file read in 1 MiB chunks).
 */
const PIECE_BYTES = 1 << 16;

export async function* decodeText(input: MemberInput, encoding: TextEncodingName = 'utf-8'): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  let head: Buffer | undefined; // first bytes, held until there are enough to sniff a BOM
  let first = true;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    if (typeof chunk === 'string') {
      // Already decoded upstream (setEncoding); only the BOM is ours to drop.
      const text = first && chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
      first = false;
      if (text) yield text;
      continue;
    }
    first = false;
    let bytes: Buffer = chunk;
    if (!decoder) {
      head = head ? Buffer.concat([head, bytes]) : bytes;
      if (head.length < 3) continue;
      decoder = new TextDecoder(sniffEncoding(head) ?? encoding);
      bytes = head;
      head = undefined;
    }
    for (let at = 0; at < bytes.length; at += PIECE_BYTES) {
      const text = decoder.decode(bytes.subarray(at, at + PIECE_BYTES), { stream: true });
      if (text) yield text;
    }
  }
  if (!decoder && head) decoder = new TextDecoder(sniffEncoding(head) ?? encoding);
  const tail = decoder?.decode(head ?? new Uint8Array(0)) ?? '';
  if (tail) yield tail;
}

function sniffEncoding(b: Buffer): string | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  return undefined;
}
