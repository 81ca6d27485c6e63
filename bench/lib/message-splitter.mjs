// @ts-check
/**
 * Streams an HL7 v2 file and hands out one message at a time. The peer parsers take a single
 * message string, so they need this; reading and splitting count in their time, as they do in ours.
 * Streaming (rather than reading the whole file) keeps their peak RSS comparable to a streaming CLI.
 */
import { createReadStream } from 'node:fs';

/**
 * Finds the start of the next message: "MSH|" at position `from` or later that begins a line.
 * The generator and common feeds use '|' as field separator; that assumption is fine for a benchmark.
 * @param {string} text @param {number} from
 */
function nextMessageStart(text, from) {
  let at = text.indexOf('MSH|', from);
  while (at > 0) {
    const before = text.charCodeAt(at - 1);
    if (before === 13 || before === 10) return at;
    at = text.indexOf('MSH|', at + 1);
  }
  return at;
}

/** Drops the line breaks that separate messages. @param {string} message */
function trimBreaks(message) {
  let end = message.length;
  while (end > 0) {
    const c = message.charCodeAt(end - 1);
    if (c !== 13 && c !== 10) break;
    end--;
  }
  return end === message.length ? message : message.slice(0, end);
}

/**
 * Calls `onMessage` for every message in the file (segments still separated by their original
 * terminators, without the final line break).
 * @param {string} path
 * @param {(message: string) => void} onMessage
 * @returns {Promise<number>} number of messages
 */
export async function forEachMessage(path, onMessage) {
  let pending = '';
  let count = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = pending + chunk;
    let start = nextMessageStart(text, 0);
    if (start < 0) {
      pending = text;
      continue;
    }
    // A boundary is only trusted once the "MSH|" after it is wholly inside the buffer; the last,
    // possibly incomplete, message is carried over to the next chunk.
    let next = nextMessageStart(text, start + 4);
    while (next >= 0) {
      onMessage(trimBreaks(text.slice(start, next)));
      count++;
      start = next;
      next = nextMessageStart(text, start + 4);
    }
    pending = text.slice(start);
  }
  const last = trimBreaks(pending);
  if (last.startsWith('MSH')) {
    onMessage(last);
    count++;
  }
  return count;
}
