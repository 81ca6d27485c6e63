import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeValue, Hl7Message, Hl7ParseError, unescapeValue, DEFAULT_DELIMITERS } from '../../../src/hl7v2/index.js';

// Values that may contain anything printable, including delimiters and backslashes.
const leaf = fc.string({ unit: fc.constantFrom(...'abcXYZ 019|^~\\&#.-"'.split('')), maxLength: 12 });
const rawLeaf = fc.string({ unit: fc.constantFrom(...'abcXYZ 019.-"'.split('')), maxLength: 8 });
const field = fc.array(fc.array(fc.array(rawLeaf, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 3,
});
const segName = fc.constantFrom('PID', 'PV1', 'OBX', 'ZZ1', 'NK1', 'EVN');
const terminator = fc.constantFrom('\r', '\n', '\r\n');

const segment = fc
  .tuple(segName, fc.array(field, { maxLength: 8 }))
  .map(([name, fields]) =>
    [name, ...fields.map((reps) => reps.map((comps) => comps.map((subs) => subs.join('&')).join('^')).join('~'))].join('|'),
  );
const message = fc
  .tuple(fc.array(segment, { maxLength: 10 }), fc.array(terminator, { minLength: 11, maxLength: 11 }), fc.boolean())
  .map(([segs, terms, finalTerm]) => {
    const all = ['MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5', ...segs];
    return all.map((s, i) => s + (i < all.length - 1 || finalTerm ? terms[i] : '')).join('');
  });

describe('properties', () => {
  it('encode(parse(m)) = m for generated messages', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(Hl7Message.parse(m).encode()).toBe(m);
      }),
      { numRuns: 500 },
    );
  });

  it('set then read returns the value, and the result re-parses to the same value', () => {
    fc.assert(
      fc.property(
        message,
        leaf,
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        (m, v, f, r, c) => {
          const msg = Hl7Message.parse(m + '\rZZZ|x');
          msg.set(`ZZZ-${f}[${r}].${c}`, v);
          const expected = v === '""' ? '' : v;
          expect(msg.get(`ZZZ-${f}[${r}].${c}`)).toBe(expected);
          expect(Hl7Message.parse(msg.encode()).get(`ZZZ-${f}[${r}].${c}`)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('unescape(escape(v)) = v', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        expect(unescapeValue(escapeValue(v, DEFAULT_DELIMITERS), DEFAULT_DELIMITERS)).toBe(v.replace(/\r\n/g, '\n'));
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes only ever produce Hl7ParseError', () => {
    const junk = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from('MSH|^~\\&|'), b])),
      fc.string().map((s) => Buffer.from('MSH' + s)),
    );
    fc.assert(
      fc.property(junk, (bytes) => {
        try {
          const m = Hl7Message.parse(bytes);
          m.encode();
          m.get('PID-3.1');
        } catch (e) {
          expect(e).toBeInstanceOf(Hl7ParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
