import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, type PhysicalLine } from '../../../../adapters/member-common/line-splitter.js';

function split(parts: string[]): PhysicalLine[] {
  const s = new LineSplitter();
  const out: PhysicalLine[] = [];
  for (const p of parts) s.push(p, out);
  s.finish(out);
  return out;
}

describe('LineSplitter', () => {
  it('numbers LF, CRLF and lone-CR lines, keeps empty lines, and the last line without a break', () => {
    expect(split(['a\nb\r\n\rc\r', '\nd'])).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'b' },
      { line: 3, text: '' },
      { line: 4, text: 'c' },
      { line: 5, text: 'd' },
    ]);
  });

  it('gives the same lines for any chunking (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('x', ' ', '\r', '\n', 'é'), maxLength: 60 });
    fc.assert(
      fc.property(text, fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), (t, cuts) => {
        const parts: string[] = [];
        for (let at = 0, i = 0; at < t.length; i++) {
          parts.push(t.slice(at, at + cuts[i % cuts.length]));
          at += cuts[i % cuts.length];
        }
        const expected = t.split(/\r\n|\r|\n/);
        if (expected[expected.length - 1] === '') expected.pop();
        expect(split(parts)).toEqual(expected.map((text, i) => ({ line: i + 1, text })));
      }),
      { numRuns: 300 },
    );
  });
});
