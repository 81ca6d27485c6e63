/**
 * Converts every ADT message of the shared corpus (../shared/corpus; sources and licences in its
 * manifest.tsv) and validates every produced resource with FHIR.js and @medplum/core. Messages
 * that cannot convert must fail with a clear reason from a known category, listed below.
 */
import { readFileSync } from 'node:fs';
import type { Bundle } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { Hl7Message, splitMessages } from '../../src/hl7v2/index.js';
import { convertHl7Message } from '../../src/ingest/convert-message.js';
import { loadProfile } from '../../src/mapping/profile-loader.js';
import { corpusHl7Files, corpusRelative, hasCorpus } from '../helpers/corpus.js';
import { errorsOf, formatIssues, usCorePatientIssues, validateWithBoth } from '../helpers/validate-fhir.js';

/**
 * Why a corpus ADT message may not convert (each failure must match one):
 * - events no adapter converts (A19 is a query, A20 names a bed and no patient);
 * - fragments extracted from other projects' test code: no PID-3, no MSH-10, broken MSH-2;
 * - deliberately invalid fixtures (rethinkhealth `invalid-*`).
 */
const KNOWN_FAILURES: RegExp[] = [
  /^no converter for ADT\^A\d\d(: |$)/,
  /^no converter for ADT(: |$)/, // no trigger event (MSH-9.2 empty)
  /no patient identifier \(PID-3 is empty\)/,
  /PID segment is missing/,
  /MSH-10 \(message control id\) is empty/,
  /delimiter characters in MSH-1\/MSH-2 must all differ/,
  /does not start with a segment id/,
  /A40 without an MRG segment|MRG-1 \(prior patient identifier\) is empty/,
];

describe.skipIf(!hasCorpus)('ADT corpus → FHIR', () => {
  const profile = loadProfile();
  const results: { where: string; ok: boolean; reason?: string; bundle?: Bundle }[] = [];
  if (hasCorpus) {
    for (const path of corpusHl7Files()) {
      for (const item of splitMessages(readFileSync(path)).items) {
        if (item.kind !== 'message') continue;
        // Only ADT messages (by a lenient header read: fragments without MSH-10 still count).
        let type: string;
        try {
          type = Hl7Message.parse(item.bytes, { requireHeaderFields: false }).messageType;
        } catch {
          continue;
        }
        if (type !== 'ADT') continue;
        const r = convertHl7Message(item.bytes, profile);
        const where = `${corpusRelative(path)}#${item.index}`;
        results.push(r.ok ? { where, ok: true, bundle: JSON.parse(JSON.stringify(r.bundle)) } : { where, ok: false, reason: r.reason });
      }
    }
  }

  it('converts the bulk of the corpus ADT messages', () => {
    const ok = results.filter((r) => r.ok).length;
    const byReason = new Map<string, number>();
    for (const r of results)
      if (!r.ok) {
        const k = KNOWN_FAILURES.find((re) => re.test(r.reason!))?.source ?? r.reason!;
        byReason.set(k, (byReason.get(k) ?? 0) + 1);
      }
    console.info(`corpus ADT: ${ok}/${results.length} converted; not converted: ${JSON.stringify(Object.fromEntries(byReason))}`);
    expect(results.length).toBeGreaterThan(600);
    expect(ok / results.length).toBeGreaterThan(0.9);
  });

  it('converts every well-formed ADT event: nothing fails for its trigger', () => {
    // An unexplained "no converter" for a trigger (a message without a trigger says so and is a known failure).
    const byEvent = results.filter((r) => !r.ok && /not supported|^no converter for ADT\^\w+$/.test(r.reason!));
    expect(byEvent.map((r) => `${r.where}: ${r.reason}`)).toEqual([]);
  });

  it('fails only for known reasons, each with a clear message', () => {
    const unknown = results.filter((r) => !r.ok && !KNOWN_FAILURES.some((k) => k.test(r.reason!)));
    expect(unknown.map((r) => `${r.where}: ${r.reason}`)).toEqual([]);
  });

  it('every produced Bundle and resource validates (FHIR.js + medplum), Patients per US Core', { timeout: 600_000 }, () => {
    const problems: string[] = [];
    for (const r of results) {
      if (!r.ok) continue;
      const errs = errorsOf(validateWithBoth(r.bundle!));
      if (errs.length) problems.push(`${r.where}: ${formatIssues(errs)}`);
      for (const e of r.bundle!.entry ?? []) {
        if (e.resource?.resourceType === 'Patient') {
          const us = usCorePatientIssues(e.resource).filter((i) => i.severity === 'error');
          if (us.length) problems.push(`${r.where} US Core: ${formatIssues(us)}`);
        }
      }
    }
    expect(problems.slice(0, 15)).toEqual([]);
  });
});
