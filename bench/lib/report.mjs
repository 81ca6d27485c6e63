// @ts-check
/** Formats benchmark results as a markdown table plus the facts needed to judge them. */
import { cpus, totalmem } from 'node:os';
import { max, median, min } from './stats.mjs';

/**
 * @typedef {object} ContenderResult
 * @property {import('./contenders.mjs').Contender} contender
 * @property {'ok' | 'skipped' | 'failed'} status
 * @property {string} note
 * @property {import('./measure.mjs').Measurement[]} runs
 */

/** @param {ContenderResult} result */
export function summarize(result) {
  const walls = result.runs.map((r) => r.wallSeconds);
  const rss = result.runs.map((r) => r.peakRssKb).filter((v) => v !== null);
  const cpu = result.runs.map((r) => r.cpuSeconds).filter((v) => v !== null);
  return {
    medianWall: median(walls),
    minWall: min(walls),
    maxWall: max(walls),
    medianRssMb: rss.length ? median(rss) / 1024 : null,
    maxRssMb: rss.length ? max(rss) / 1024 : null,
    medianCpu: cpu.length ? median(cpu) : null,
  };
}

const fixed = (/** @type {number | null} */ v, digits = 2) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const thousands = (/** @type {number} */ v) => Math.round(v).toLocaleString('en-US');

/**
 * @param {ContenderResult[]} results
 * @param {{ messages: number, fileBytes: number, runs: number, file: string }} setup
 */
export function markdownReport(results, setup) {
  const medplum = results.find((r) => r.contender.id === 'medplum' && r.status === 'ok');
  const medplumRate = medplum ? setup.messages / summarize(medplum).medianWall : null;
  const lines = [
    `Messages: ${thousands(setup.messages)} ADT in ${(setup.fileBytes / 1e6).toFixed(1)} MB (${setup.file}); ` +
      `${setup.runs} interleaved runs per contender, whole process each.`,
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${process.platform}/${process.arch}.`,
    '',
    '| contender | what it does | median wall (s) | min–max (s) | msg/s (median) | peak RSS MB (median / max) | CPU user+sys (s) | msg/s vs medplum |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const result of results) {
    const { contender } = result;
    if (result.status !== 'ok') {
      lines.push(`| ${contender.id} | ${contender.description} | ${result.status}: ${result.note.replace(/\|/g, '/')} | | | | | |`);
      continue;
    }
    const s = summarize(result);
    const rate = setup.messages / s.medianWall;
    const ratio = medplumRate && !contender.reference ? `${(rate / medplumRate).toFixed(2)}×` : '';
    lines.push(
      `| ${contender.id} | ${contender.description} | ${fixed(s.medianWall)} | ${fixed(s.minWall)}–${fixed(s.maxWall)} | ` +
        `${thousands(rate)} | ${fixed(s.medianRssMb, 0)} / ${fixed(s.maxRssMb, 0)} | ${fixed(s.medianCpu)} | ${ratio} |`,
    );
  }
  const ours = results.find((r) => r.contender.id === 'carebridge' && r.status === 'ok');
  if (ours && medplumRate) {
    const ratio = setup.messages / summarize(ours).medianWall / medplumRate;
    lines.push('', `carebridge / medplum msg/s: ${ratio.toFixed(2)}× (target ≥ 1.5×, aim 3×): ${ratio >= 1.5 ? 'met' : 'NOT met'}`);
  }
  return lines.join('\n');
}
