#!/usr/bin/env node
// @ts-check
/**
 * carebridge's own HL7 v2 parser doing exactly the peers' work: stream FILE, split messages,
 * parse each and read the six benchmark fields (no FHIR mapping, no output). Needs `npm run build`.
 * Prints one JSON line {contender, messages, checksum, failed}.
 *   node bench/peer-carebridge-parse.mjs FILE
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { forEachMessage } from './lib/message-splitter.mjs';
import { createChecksum } from './lib/six-fields.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { Hl7Message } = await import(pathToFileURL(join(here, '..', 'dist', 'src', 'hl7v2', 'index.js')).href);

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/peer-carebridge-parse.mjs FILE');
  process.exit(2);
}
const checksum = createChecksum();
let failed = 0;
await forEachMessage(file, (text) => {
  try {
    const m = Hl7Message.parse(text);
    checksum.add([
      `${m.msh.get(9, 1, 1)}^${m.msh.get(9, 1, 2)}`,
      m.msh.get(10, 1, 1),
      m.get('PID-3.1'),
      m.get('PID-5.1'),
      m.get('PID-7.1'),
      m.get('PV1-44.1'),
    ]);
  } catch {
    failed++;
  }
});
console.log(checksum.report('carebridge-parse').replace(/}$/, `,"failed":${failed}}`));
