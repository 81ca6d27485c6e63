// @ts-check
// In-process A/B of the conversion itself (parse + map + JSON.stringify), for two compiled trees
// in ONE process: rounds alternate A and B (order swapped each round), so host drift — CPU
// frequency, steal, other jobs — hits both alike and the per-round ratio is steadier than two
// separate processes' times. Whole-process numbers stay `run-convert.mjs`'s job.
//
//   node bench/convert-ab.mjs --a /path/to/base --b . [--messages 3000] [--rounds 21] [--warmup 3]
//
// Each tree must be built (`npx tsc -p tsconfig.build.json`). Prints a JSON summary: median
// CPU µs per message for each side, and the median of the per-round B/A ratios.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateAdtMessages } from './gen-adt.mjs';
import { median } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: '.' },
    messages: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '21' },
    warmup: { type: 'string', default: '3' },
  },
});
if (!values.a) throw new Error('--a DIR (a built carebridge tree) is required');

/** @param {string} root */
async function load(root) {
  const dist = resolve(root, 'dist/src');
  const one = await import(pathToFileURL(`${dist}/cli/convert-one.js`).href);
  const loader = await import(pathToFileURL(`${dist}/mapping/profile-loader.js`).href);
  const profile = loader.loadProfile({ mappingsDir: resolve(root, 'mappings') });
  /** @param {Uint8Array[]} messages */
  return (messages) => {
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const r = one.convertForOutput(messages[i], profile, { file: 'ab', index: i, line: 1 }, true);
      if (r.json === undefined) throw new Error(`${root}: message ${i} failed: ${r.stderr}`);
      bytes += r.json.length;
    }
    return bytes;
  };
}

const count = Number(values.messages);
const messages = [...generateAdtMessages({ count })].map((m) => Buffer.from(m, 'latin1'));
const sides = { a: await load(values.a), b: await load(values.b) };

/** @param {(m: Uint8Array[]) => number} run */
function cpuMicrosPerMessage(run) {
  const start = process.cpuUsage();
  run(messages);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

for (let i = 0; i < Number(values.warmup); i++) {
  cpuMicrosPerMessage(sides.a);
  cpuMicrosPerMessage(sides.b);
}
const bytes = { a: sides.a(messages) / count, b: sides.b(messages) / count };
/** @type {{a: number[], b: number[], ratio: number[]}} */
const per = { a: [], b: [], ratio: [] };
for (let round = 0; round < Number(values.rounds); round++) {
  const order = round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
  /** @type {Record<string, number>} */
  const t = {};
  for (const side of order) t[side] = cpuMicrosPerMessage(side === 'a' ? sides.a : sides.b);
  per.a.push(t.a);
  per.b.push(t.b);
  per.ratio.push(t.b / t.a);
}
const round2 = (/** @type {number} */ x) => Math.round(x * 100) / 100;
console.log(
  JSON.stringify(
    {
      messages: count,
      rounds: per.ratio.length,
      a: { tree: values.a, medianMicros: round2(median(per.a)), bytesPerBundle: Math.round(bytes.a) },
      b: { tree: values.b, medianMicros: round2(median(per.b)), bytesPerBundle: Math.round(bytes.b) },
      medianRatio: round2(median(per.ratio) * 100) / 100,
      ratioRange: [round2(Math.min(...per.ratio)), round2(Math.max(...per.ratio))],
    },
    null,
    2,
  ),
);
