/**
 * Runs the parser over every HL7 v2 file of the shared real-world corpus (../shared/corpus, see its
 * manifest.tsv for sources and licences): every message must parse or fail with a typed error, and
 * every parsed message must round-trip byte for byte. Skipped when the corpus is absent.
 */
import { readFileSync } from 'node:fs';
import { Hl7Message as MedplumHl7 } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { Hl7Message, Hl7ParseError, splitMessages, unescapeValue } from '../../src/hl7v2/index.js';
import { corpusHl7Files, corpusRelative, hasCorpus } from '../helpers/corpus.js';

/**
 * Messages in the corpus that are not valid HL7 v2 and why; each failure must match one of these.
 * - `^~\\&`: messages extracted from Java/JS string literals kept the doubled backslash, so MSH-2
 *   declares the escape character twice (5 encoding characters, two equal) — a real sender doing
 *   this is misconfigured and gets a NACK.
 * - hapi util/messages.txt: a file of examples with `//` comment lines between messages.
 * - rethinkhealth invalid-segment-header-length: a deliberately invalid fixture (`PIDX`, `PV`).
 */
const KNOWN_UNPARSEABLE: { file: RegExp; error: RegExp; why: string }[] = [
  {
    file: /LinuxForHealth|node-hl7-client/,
    error: /delimiter characters in MSH-1\/MSH-2 must all differ/,
    why: 'string-literal artifact ^~\\\\&',
  },
  { file: /hapi-hl7v2\/.*\/util\/messages\.txt$/, error: /does not start with a segment id/, why: 'comment lines in an example file' },
  { file: /invalid-segment-header-length\.hl7$/, error: /does not start with a segment id/, why: 'deliberately invalid fixture' },
];

interface Parsed {
  file: string;
  index: number;
  msg: Hl7Message;
}

function parseCorpus() {
  const parsed: Parsed[] = [];
  const failures: { file: string; index: number; error: Error }[] = [];
  for (const path of corpusHl7Files()) {
    const file = corpusRelative(path);
    for (const item of splitMessages(readFileSync(path)).items) {
      if (item.kind !== 'message') continue;
      try {
        // Corpus fragments often lack MSH-10; the gateway requires it, the parser itself need not.
        parsed.push({ file, index: item.index, msg: Hl7Message.parse(item.bytes, { requireHeaderFields: false }) });
      } catch (error) {
        failures.push({ file, index: item.index, error: error as Error });
      }
    }
  }
  return { parsed, failures };
}

describe.skipIf(!hasCorpus)('HL7 v2 corpus', () => {
  const { parsed, failures } = hasCorpus ? parseCorpus() : { parsed: [], failures: [] };

  it('parses the corpus (well over a thousand messages)', () => {
    expect(parsed.length).toBeGreaterThan(1500);
  });

  it('fails only with typed errors, and only on the known-invalid messages', () => {
    for (const f of failures) {
      expect(f.error, `${f.file}#${f.index}`).toBeInstanceOf(Hl7ParseError);
      const known = KNOWN_UNPARSEABLE.find((k) => k.file.test(f.file) && k.error.test(f.error.message));
      expect(known, `${f.file}#${f.index}: ${f.error.message}`).toBeDefined();
    }
  });

  it('round-trips every parsed message byte for byte', () => {
    for (const p of parsed) expect(p.msg.encode(), `${p.file}#${p.index}`).toBe(p.msg.raw);
  });

  it('agrees with @medplum/core 4.5.2 Hl7Message on every value both define (differential)', () => {
    let compared = 0;
    const disagreements: string[] = [];
    for (const p of parsed) {
      // Medplum splits segments on CR only; feed it CR-terminated text of the same segments.
      const text = p.msg.segments.map((s) => s.toString()).join('\r');
      let theirs: MedplumHl7;
      try {
        theirs = MedplumHl7.parse(text);
      } catch {
        continue; // medplum cannot parse it: nothing to compare
      }
      p.msg.segments.forEach((ours, si) => {
        const seg = theirs.segments[si];
        if (!seg || seg.name !== ours.name) {
          disagreements.push(`${p.file}#${p.index}: segment ${si + 1} ${ours.name} vs ${seg?.name}`);
          return;
        }
        const fields = Math.min(ours.fieldCount, 40);
        for (let f = 3; f <= fields; f++) {
          if (ours.isHeader && f <= 2) continue;
          const reps = ours.repetitions(f);
          for (let r = 1; r <= Math.min(reps, 5); r++) {
            const comps = ours.components(f, r);
            for (let c = 1; c <= Math.min(comps, 12); c++) {
              // medplum: component 1-based, subcomponent and repetition 0-based, values still escaped.
              const raw = seg.getComponent(f, c, 0, r - 1);
              const mine = ours.get(f, r, c, 1);
              const expected = raw === '""' ? '' : unescapeValue(raw ?? '', p.msg.delimiters);
              compared++;
              if (expected !== mine) disagreements.push(`${p.file}#${p.index} ${ours.name}-${f}[${r}].${c}`);
            }
          }
        }
      });
    }
    expect(compared).toBeGreaterThan(50_000);
    expect(disagreements.slice(0, 20)).toEqual([]);
  });
});
