#!/usr/bin/env node
// @ts-check
/**
 * Peer: @medplum/core Hl7Message. Streams FILE, splits messages, parses each and reads the six
 * benchmark fields. Prints one JSON line {contender, messages, checksum, failed}.
 *   node bench/peer-medplum.mjs FILE
 */
import { Hl7Message } from '@medplum/core';
import { forEachMessage } from './lib/message-splitter.mjs';
import { createChecksum } from './lib/six-fields.mjs';

/** @typedef {ReturnType<Hl7Message['getSegment']>} Segment */

/** Medplum's getField returns undefined past the last field, so guard like a real caller would. */
const read = (/** @type {Segment} */ segment, /** @type {number} */ field, /** @type {number} */ component) =>
  segment?.getField(field)?.getComponent(component) ?? '';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/peer-medplum.mjs FILE');
  process.exit(2);
}
const checksum = createChecksum();
let failed = 0;
await forEachMessage(file, (text) => {
  try {
    const message = Hl7Message.parse(text);
    const msh = message.header;
    const pid = message.getSegment('PID');
    const pv1 = message.getSegment('PV1');
    checksum.add([
      `${read(msh, 9, 1)}^${read(msh, 9, 2)}`,
      read(msh, 10, 1),
      read(pid, 3, 1),
      read(pid, 5, 1),
      read(pid, 7, 1),
      read(pv1, 44, 1),
    ]);
  } catch {
    failed++;
  }
});
console.log(checksum.report('medplum').replace(/}$/, `,"failed":${failed}}`));
