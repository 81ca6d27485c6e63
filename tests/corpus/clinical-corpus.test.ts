/**
 * Converts every ORU, SIU and MDM message of the shared corpus (../shared/corpus; sources and
 * licences in its manifest.tsv) with the clinical adapters and validates every produced resource
 * with FHIR.js and @medplum/core. A message that does not convert must fail for a listed reason.
 */
import { readFileSync } from 'node:fs';
import type { Bundle } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { CLINICAL_ADAPTERS } from '../../adapters/clinical.js';
import { MappingError, UnsupportedMessageError } from '../../adapters/hl7v2-adt/index.js';
import { AdapterRegistry } from '../../src/conversion/registry.js';
import { Hl7Message, Hl7ParseError, splitMessages } from '../../src/hl7v2/index.js';
import { loadProfile } from '../../src/mapping/profile-loader.js';
import { corpusHl7Files, corpusRelative, hasCorpus } from '../helpers/corpus.js';
import { errorsOf, formatIssues, usCorePatientIssues, validateWithBoth } from '../helpers/validate-fhir.js';

/**
 * Why a corpus ORU/SIU/MDM message may not convert (each failure must match one):
 * - fragments extracted from other projects' test code: no PID or no PID-3 (a result, appointment
 *   or document that names no patient cannot be routed), no MSH-10, no TXA in an MDM;
 * - messages whose results or appointment carry nothing to convert (an ORU without OBR/OBX, an
 *   SIU without a patient or without any time).
 */
const KNOWN_FAILURES: RegExp[] = [
  /no patient identifier \(PID-3 is empty\)/,
  /PID segment is missing/,
  /MSH-10 \(message control id\) is empty/,
  /TXA segment is missing/,
  /without OBR or OBX: no results to convert/,
  /without a patient \(PID\): nothing to route/,
  /no appointment start and end/,
];

const CLINICAL_TYPES = new Set(['ORU', 'SIU', 'MDM']);

type Result =
  | { where: string; type: string; ok: true; bundle: Bundle; warnings: string[] }
  | { where: string; type: string; ok: false; reason: string };

function convertOne(
  bytes: Uint8Array,
  registry: AdapterRegistry,
  profile: ReturnType<typeof loadProfile>,
): { ok: true; bundle: Bundle; warnings: string[] } | { ok: false; reason: string } {
  let msg: Hl7Message;
  try {
    msg = Hl7Message.parse(bytes);
  } catch (e) {
    if (e instanceof Hl7ParseError) return { ok: false, reason: e.message };
    throw e;
  }
  const adapter = registry.find(msg);
  if (!adapter) return { ok: false, reason: `no converter for ${msg.messageType}^${msg.triggerEvent}` };
  try {
    const c = adapter.convert(msg, profile);
    return { ok: true, bundle: JSON.parse(JSON.stringify(c.bundle)) as Bundle, warnings: c.warnings };
  } catch (e) {
    if (e instanceof MappingError) return { ok: false, reason: `${e.message} (${e.location})` };
    if (e instanceof UnsupportedMessageError) return { ok: false, reason: e.message };
    throw e;
  }
}

describe.skipIf(!hasCorpus)('ORU / SIU / MDM corpus → FHIR', () => {
  const profile = loadProfile();
  const registry = new AdapterRegistry(CLINICAL_ADAPTERS);
  const results: Result[] = [];
  if (hasCorpus) {
    for (const path of corpusHl7Files()) {
      for (const item of splitMessages(readFileSync(path)).items) {
        if (item.kind !== 'message') continue;
        let type: string;
        try {
          type = Hl7Message.parse(item.bytes, { requireHeaderFields: false }).messageType;
        } catch {
          continue;
        }
        if (!CLINICAL_TYPES.has(type)) continue;
        const where = `${corpusRelative(path)}#${item.index}`;
        results.push({ where, type, ...convertOne(item.bytes, registry, profile) });
      }
    }
  }

  it('converts the corpus ORU, SIU and MDM messages, or fails for a listed reason', () => {
    const summary: Record<string, { converted: number; total: number }> = {};
    const byReason = new Map<string, number>();
    for (const r of results) {
      const s = (summary[r.type] ??= { converted: 0, total: 0 });
      s.total++;
      if (r.ok) s.converted++;
      else {
        const k = KNOWN_FAILURES.find((re) => re.test(r.reason))?.source ?? r.reason;
        byReason.set(k, (byReason.get(k) ?? 0) + 1);
      }
    }
    console.info(`corpus clinical: ${JSON.stringify(summary)}; not converted: ${JSON.stringify(Object.fromEntries(byReason))}`);
    for (const type of CLINICAL_TYPES) expect(summary[type]?.converted ?? 0, type).toBeGreaterThan(0);
    const unknown = results.filter((r) => !r.ok && !KNOWN_FAILURES.some((k) => k.test(r.reason)));
    expect(unknown.map((r) => `${r.where}: ${r.ok ? '' : r.reason}`)).toEqual([]);
    expect(results.filter((r) => r.ok).length / results.length).toBeGreaterThan(0.9);
  });

  it('every produced Bundle and resource validates (FHIR.js + medplum), Patients per US Core', { timeout: 600_000 }, () => {
    const problems: string[] = [];
    for (const r of results) {
      if (!r.ok) continue;
      const errs = errorsOf(validateWithBoth(r.bundle));
      if (errs.length) problems.push(`${r.where}: ${formatIssues(errs)}`);
      for (const e of r.bundle.entry ?? []) {
        if (e.resource?.resourceType === 'Patient') {
          const us = usCorePatientIssues(e.resource).filter((i) => i.severity === 'error');
          if (us.length) problems.push(`${r.where} US Core: ${formatIssues(us)}`);
        }
      }
    }
    expect(problems.slice(0, 15)).toEqual([]);
  });
});
