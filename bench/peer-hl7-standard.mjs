#!/usr/bin/env node
// @ts-check
/**
 * Peer: hl7-standard 1.0.4. Streams FILE, splits messages, transforms each and reads the six
 * benchmark fields. Prints one JSON line {contender, messages, checksum, failed}.
 *   node bench/peer-hl7-standard.mjs FILE
 */
// hl7-standard ships no type declarations; it is used untyped on purpose here.
import HL7 from 'hl7-standard';
import { forEachMessage } from './lib/message-splitter.mjs';
import { createChecksum } from './lib/six-fields.mjs';

/**
 * hl7-standard returns null for an absent value, and an array when a component holds '&'
 * subcomponents (it calls them "repeating fields"); take the first, as for repetitions.
 * @param {any} value
 * @returns {string}
 */
const text = (value) => (Array.isArray(value) ? String(value[0] ?? '') : typeof value === 'string' ? value : '');

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/peer-hl7-standard.mjs FILE');
  process.exit(2);
}
const checksum = createChecksum();
let failed = 0;
await forEachMessage(file, (raw) => {
  try {
    const message = new HL7(raw);
    message.transform();
    checksum.add([
      `${text(message.get('MSH.9.1'))}^${text(message.get('MSH.9.2'))}`,
      text(message.get('MSH.10.1')),
      text(message.get('PID.3.1')),
      text(message.get('PID.5.1')),
      text(message.get('PID.7.1')),
      text(message.get('PV1.44.1')),
    ]);
  } catch {
    failed++;
  }
});
console.log(checksum.report('hl7-standard').replace(/}$/, `,"failed":${failed}}`));
