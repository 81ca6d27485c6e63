import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DelimitedTokenizer, type TokenizedRow } from '../../../../adapters/member-csv/delimited-tokenizer.js';

function tokenize(text: string | string[], opts: Partial<ConstructorParameters<typeof DelimitedTokenizer>[0]> = {}): TokenizedRow[] {
  const t = new DelimitedTokenizer({ delimiter: ',', quote: '"', maxRowChars: 1 << 20, ...opts });
  const out: TokenizedRow[] = [];
  const drain = () => {
    for (let row = t.next(); row; row = t.next()) out.push(row);
  };
  for (const part of Array.isArray(text) ? text : [text]) {
    t.push(part);
    drain();
  }
  t.end();
  drain();
  return out;
}

describe('delimited tokenizer', () => {
  it('splits plain rows with LF, CRLF and lone CR line ends, numbering physical lines', () => {
    expect(tokenize('a,b\nc,d\r\ne,f\rg,h')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
      { line: 3, fields: ['e', 'f'] },
      { line: 4, fields: ['g', 'h'] },
    ]);
  });

  it('handles quoted fields: embedded delimiters, "" escapes, line breaks, empty quotes', () => {
    const rows = tokenize('1,"Smith, John","say ""hi""",""\n2,"two\r\nlines","x\ny"\n3,z,,\n');
    expect(rows).toEqual([
      { line: 1, fields: ['1', 'Smith, John', 'say "hi"', ''] },
      { line: 2, fields: ['2', 'two\r\nlines', 'x\ny'] },
      { line: 5, fields: ['3', 'z', '', ''] },
    ]);
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(tokenize('O"Brien,5" ruler\n')).toEqual([{ line: 1, fields: ['O"Brien', '5" ruler'] }]);
  });

  it('gives the same rows however the text is chunked (CRLF and "" split across chunks)', () => {
    const text = 'a,"b""c",d\r\n"e\r\nf",g\r\nh,i';
    const whole = tokenize(text);
    for (let cut = 1; cut < text.length; cut++) {
      expect(tokenize([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toEqual(whole);
    }
    expect(tokenize(text.split(''))).toEqual(whole);
  });

  it('reports text after a closing quote and resumes at the next physical line', () => {
    const rows = tokenize('1,"Smith, "Bob",x\n2,ok\n');
    expect(rows).toEqual([
      { line: 1, error: 'column 2: text after the closing quote' },
      { line: 2, fields: ['2', 'ok'] },
    ]);
  });

  it('reports a quote never closed at the end and still returns the rows after its line', () => {
    const rows = tokenize('1,ok\n2,"never closed\n3,fine\n4,fine\n');
    expect(rows).toEqual([
      { line: 1, fields: ['1', 'ok'] },
      { line: 2, error: 'column 2: quoted field is never closed' },
      { line: 3, fields: ['3', 'fine'] },
      { line: 4, fields: ['4', 'fine'] },
    ]);
  });

  it('stops an over-long row (maxRowChars) instead of buffering the rest of the file', () => {
    const filler = 'x,y\n'.repeat(2000);
    const parts = ['1,"open\n', ...Array.from({ length: 10 }, () => filler)];
    const rows = tokenize(parts, { maxRowChars: 4096 });
    expect(rows[0]).toEqual({ line: 1, error: 'row is longer than 4096 characters (a quote never closed?)' });
    expect(rows[1]).toEqual({ line: 2, fields: ['x', 'y'] });
    expect(rows.length).toBe(1 + 20000);
    expect(rows[rows.length - 1]).toEqual({ line: 20001, fields: ['x', 'y'] });
  });

  it('skips leading banner lines, even with quotes in them', () => {
    expect(tokenize('Roster "export"\r\ngenerated 2026-04-01\r\nID,NAME\r\n1,A\r\n', { skipLines: 2 })).toEqual([
      { line: 3, fields: ['ID', 'NAME'] },
      { line: 4, fields: ['1', 'A'] },
    ]);
  });

  it('supports tab and pipe delimiters, and no quoting', () => {
    expect(tokenize('a\t"b\tc"\n', { delimiter: '\t' })).toEqual([{ line: 1, fields: ['a', 'b\tc'] }]);
    expect(tokenize('a|"b|c\n', { delimiter: '|', quote: null })).toEqual([{ line: 1, fields: ['a', '"b', 'c'] }]);
  });

  it('round-trips any table written RFC 4180 style, in any chunking (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '\n', '\r', 'é', '1'), maxLength: 8 });
    const table = fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(table, fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }), fc.boolean(), (rows, cuts, crlf) => {
        const eol = crlf ? '\r\n' : '\n';
        const encode = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
        let text = '';
        const expected: TokenizedRow[] = [];
        for (const r of rows) {
          expected.push({ line: 1 + (text.match(/\r\n|\r|\n/g)?.length ?? 0), fields: r });
          text += r.map(encode).join(',') + eol;
        }
        const parts: string[] = [];
        for (let at = 0, i = 0; at < text.length; i++) {
          parts.push(text.slice(at, at + cuts[i % cuts.length]));
          at += cuts[i % cuts.length];
        }
        expect(tokenize(parts)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
