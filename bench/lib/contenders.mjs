// @ts-check
/**
 * The processes the benchmark compares, and the untimed check run of each: it proves a contender
 * really handled every message (so a fast crash is never reported as a fast result) and warms the
 * page cache so the first timed run is not penalised.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * @typedef {object} Contender
 * @property {string} id
 * @property {string} description
 * @property {boolean} reference   a floor shown for context, not a competitor
 * @property {(file: string) => string[]} command
 * @property {string | null} unavailable   why it cannot run here, or null
 * @property {(stdout: ChildOutput, expected: number) => { ok: true, detail: string } | { ok: false, reason: string }} verify
 */

/**
 * What the check run collected. Stdout is kept only up to `head` (the first line) plus a newline count,
 * so a contender printing hundreds of MB of NDJSON does not blow up the runner.
 * @typedef {{ exitCode: number | null, lines: number, head: string, stderrTail: string }} ChildOutput
 */

/**
 * @param {string} repoRoot
 * @param {string} [cli]  the carebridge CLI entry; defaults to the built dist/src/cli/main.js
 * @returns {Contender[]}
 */
export function listContenders(repoRoot, cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js')) {
  const node = process.execPath;
  const peer = (/** @type {string} */ name) => join(repoRoot, 'bench', `peer-${name}.mjs`);
  return [
    {
      id: 'carebridge',
      description: '`carebridge convert FILE` (parse + map to FHIR + NDJSON out)',
      reference: false,
      command: (file) => [node, cli, 'convert', file],
      unavailable: existsSync(cli) ? null : `${relative(repoRoot, cli)} not found (run \`npm run build\` once the CLI exists)`,
      verify: verifyNdjson,
    },
    {
      ...peerContender(
        'carebridge-parse',
        "carebridge `Hl7Message.parse` + six field reads (the peers' work; needs the build)",
        peer('carebridge-parse'),
      ),
      unavailable: existsSync(join(repoRoot, 'dist', 'src', 'hl7v2', 'index.js')) ? null : 'dist/ not built (npm run build)',
    },
    peerContender('medplum', '@medplum/core 4.5.2 `Hl7Message.parse` + six field reads', peer('medplum')),
    peerContender('hl7-standard', 'hl7-standard 1.0.4 `transform()` + six field reads', peer('hl7-standard')),
    {
      ...peerContender('split-only', 'floor: Node start-up + stream + split, no parsing', peer('split-only')),
      reference: true,
    },
  ];
}

/** @param {string} id @param {string} description @param {string} script @returns {Contender} */
function peerContender(id, description, script) {
  return {
    id,
    description,
    reference: false,
    command: (file) => [process.execPath, script, file],
    unavailable: null,
    verify: (out, expected) => {
      let summary;
      try {
        summary = JSON.parse(out.head);
      } catch {
        return { ok: false, reason: `no summary line (exit ${out.exitCode}): ${out.stderrTail.slice(-300)}` };
      }
      if (out.exitCode !== 0) return { ok: false, reason: `exit ${out.exitCode}` };
      if (summary.messages !== expected) return { ok: false, reason: `${summary.messages} messages, expected ${expected}` };
      if (summary.failed !== 0) return { ok: false, reason: `${summary.failed} messages failed to parse` };
      return { ok: true, detail: summary.checksum ?? `${summary.messages} messages` };
    },
  };
}

/** The CLI contract: exit 0 and one Bundle per message, one per line. @type {Contender['verify']} */
function verifyNdjson(out, expected) {
  if (out.exitCode !== 0) return { ok: false, reason: `exit ${out.exitCode}: ${out.stderrTail.split('\n').slice(0, 3).join(' / ')}` };
  if (out.lines !== expected) return { ok: false, reason: `${out.lines} output lines, expected ${expected}` };
  try {
    const first = JSON.parse(out.head);
    if (first.resourceType !== 'Bundle') return { ok: false, reason: `first line is a ${first.resourceType}, not a Bundle` };
  } catch {
    return { ok: false, reason: 'first output line is not JSON' };
  }
  return { ok: true, detail: `${out.lines} bundles` };
}

/**
 * Runs a contender once with stdout captured (untimed).
 * @param {string[]} command @param {string} cwd @returns {Promise<ChildOutput>}
 */
export function checkRun(command, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let head = '';
    let headDone = false;
    child.stdout.on('data', (/** @type {Buffer} */ chunk) => {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      if (!headDone) {
        // Only the first line is parsed; cap it so a runaway line cannot exhaust memory.
        head += chunk.toString('utf8');
        const newline = head.indexOf('\n');
        if (newline !== -1) head = head.slice(0, newline);
        headDone = newline !== -1 || head.length > 50_000_000;
      }
    });
    let stderrTail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderrTail = (stderrTail + chunk).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolvePromise({ exitCode, lines, head: head.trim(), stderrTail: stderrTail.trim() }));
  });
}
