#!/usr/bin/env node
// @ts-check
/**
 * Where the gateway's CPU time goes, from a V8 `.cpuprofile` (node --cpu-prof): self time summed
 * per area (our folders under src/, each npm package, Node internals, GC) and per function.
 * Percentages are of busy time (idle excluded).
 *
 *   node bench/gateway/prof-summary.mjs FILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} CpuProfile
 */

/** The bucket a script URL belongs to: `src/ingest`, `pkg bullmq`, `node internals`, ... @param {string} url */
export function areaOf(url) {
  if (!url) return '(native / V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/(src|adapters)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * Pipeline stages, tried in order against every frame of a sample's stack (leaf to root): the first
 * rule that matches any frame names the stage. Specific rules first, generic packages last, so
 * time spent inside ioredis on behalf of the ordering gate counts as the ordering gate.
 * @type {[RegExp, string][]}
 */
const STAGES = [
  [/recordDeliveryResults/, 'delivery: record the attempt/outcome (SQLite commit)'],
  [/deliverers\/webhook|delivery\/http-post|node:_http_(client|agent)/, 'delivery: webhook request (sign + POST, node:http client)'],
  [/ordering-gate|waitForTurn|releaseTurn|hasEarlierUndelivered/, 'delivery: per-patient ordering (Redis + store check)'],
  [/src\/delivery\/(queues|outbox)/, 'delivery: worker (load delivery, BullMQ job calls)'],
  [/completeProcessingBatch|completeAll/, 'processing: commit FHIR + deliveries (SQLite)'],
  [/src\/ingest\/pipeline|src\/routing/, 'processing: route + enqueue (BullMQ add)'],
  [/acceptInbound/, 'ingest: commit raw message (SQLite)'],
  [/src\/ingest\/|adapters\/|src\/hl7v2|src\/fhir|src\/mapping/, 'ingest: parse + validate + convert + ACK'],
  [/src\/mllp\/|src\/sources\//, 'ingest: MLLP I/O'],
  [/node_modules\/bullmq/, 'BullMQ internals (worker loop, scripts, events)'],
  [/node_modules\/ioredis/, 'ioredis (socket writes, reply parsing)'],
  [/undici/, 'HTTP client internals (undici, fetch)'],
  [/node_modules\/(fastify|@fastify|pino|prom-client|avvio|light-my-request)/, 'HTTP API, metrics, logging'],
];

/** @param {string} file @param {number} top @returns {string} a markdown report */
export function summarizeProfile(file, top = 30) {
  /** @type {CpuProfile} */
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  /** @type {Map<string, number>} */
  const areas = new Map();
  /** @type {Map<string, number>} */
  const functions = new Map();
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {Map<number, string>} */
  const stageCache = new Map();
  /** @param {number} id */
  const stageOf = (id) => {
    let stage = stageCache.get(id);
    if (stage) return stage;
    /** @type {string[]} */
    const frames = [];
    for (let cur = /** @type {number | undefined} */ (id); cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (f) frames.push(`${f.functionName} ${f.url}`);
    }
    const leaf = byId.get(id)?.callFrame.functionName ?? '';
    stage =
      leaf === '(garbage collector)'
        ? 'GC'
        : (STAGES.find(([re]) => frames.some((f) => re.test(f)))?.[1] ?? 'other (Node internals, timers, start-up)');
    stageCache.set(id, stage);
    return stage;
  };
  /** @type {Map<string, number>} */
  const stages = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const stage = stageOf(id);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
    const area = functionName === '(garbage collector)' ? 'GC' : functionName === '(program)' ? '(program)' : areaOf(url);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|src|adapters)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  const pct = (/** @type {number} */ us) => `${((100 * us) / busy).toFixed(1)} %`;
  const rows = (/** @type {Map<string, number>} */ m, /** @type {number} */ n) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `| ${k} | ${(us / 1e6).toFixed(2)} | ${pct(us)} |`);
  return [
    `busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s (main thread)`,
    '',
    '| stage | s | of busy |',
    '|---|---:|---:|',
    ...rows(stages, 20),
    '',
    '| area | self s | of busy |',
    '|---|---:|---:|',
    ...rows(areas, 25),
    '',
    '| function | self s | of busy |',
    '|---|---:|---:|',
    ...rows(functions, top),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (positionals.length !== 1) {
    process.stderr.write('usage: prof-summary.mjs FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarizeProfile(positionals[0], Number(values.top))}\n`);
}
