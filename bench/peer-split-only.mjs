#!/usr/bin/env node
// @ts-check
/**
 * Floor, not a contender: Node start-up + streaming the file + splitting it into messages, with no
 * parsing. Subtract it from a peer's time to see what the parser itself costs.
 *   node bench/peer-split-only.mjs FILE
 */
import { forEachMessage } from './lib/message-splitter.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/peer-split-only.mjs FILE');
  process.exit(2);
}
let bytes = 0;
const messages = await forEachMessage(file, (text) => {
  bytes += text.length;
});
console.log(JSON.stringify({ contender: 'split-only', messages, chars: bytes, failed: 0 }));
