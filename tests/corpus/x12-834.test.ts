/**
 * Runs the 834 reader over every X12 834 transaction of the shared corpus (../shared/corpus, listed
 * in its manifest.tsv with source and licence): pyx12's test and example files (5010 X220A1 and
 * 4010 X095A1) and the edi-834-validator samples (incl. a NY dental 005010X318). Every INS must come
 * out as exactly one record or row error, envelopes must check out, and a few members are checked
 * field by field. Skipped when the corpus is absent.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readX12Members } from '../../adapters/x12-834/read-834.js';
import { CORPUS_DIR, hasCorpus } from '../helpers/corpus.js';
import { collect, errors, layout, records, warnings } from '../unit/adapters/member-common/helpers.js';

/** 834 inputs from the manifest (not the 997/999 acknowledgements next to them). */
function corpus834Files(): string[] {
  if (!hasCorpus) return [];
  const manifest = join(CORPUS_DIR, 'manifest.tsv');
  const paths = existsSync(manifest)
    ? readFileSync(manifest, 'utf8')
        .split('\n')
        .map((l) => l.split('\t')[0])
    : [];
  return paths.filter((p) => /834/.test(p) && /\.(txt|edi)$/.test(p) && !/\.999\.txt$|\.res(997|Ack)\.txt$/.test(p) && !/docs\//.test(p));
}

/** What the corpus itself gets wrong, and what we say about it. */
const EXPECTED_ISSUES: Record<string, { errors?: string[]; warnings?: string[] }> = {
  // pyx12's expected 999 rejects this one: IK4 "invalid character" for the LF inside N3-01.
  'pyx12/pyx12/test/x12testdata.py.extracted/834_eol_in_element.source.txt': { errors: ['N3: line break inside the segment'] },
  'edi-834-validator/data/valid-834.edi': { warnings: ['ISA-16: the component separator is missing'] },
};

const files = corpus834Files();
const plain = layout({ format: 'x12-834', memberId: [{ ref: '0F' }, { nm1: 'MI' }] });

describe.skipIf(!hasCorpus)('X12 834 corpus', () => {
  it('finds the corpus 834 files', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('%s: one item per INS, envelopes check out', async (file) => {
    const text = readFileSync(join(CORPUS_DIR, file), 'utf8');
    const insCount = (text.match(/(^|[~\n'])\s*INS[*|]/g) ?? []).length;
    const items = await collect(readX12Members(createReadStream(join(CORPUS_DIR, file)), plain));
    expect(records(items).length + errors(items).length).toBe(insCount);
    const expected = EXPECTED_ISSUES[file] ?? {};
    expect(errors(items).map((e) => e.reason)).toEqual(expected.errors ?? []);
    expect(warnings(items).map((w) => w.reason)).toEqual(expected.warnings ?? []);
  });

  it('reads the Oregon 834 with a corrected name (NM1*74), an incorrect one (NM1*70), a mailing address and reporting categories', async () => {
    const file = 'pyx12/pyx12/tests/834_ls_le_ls.txt';
    const l = layout({
      format: 'x12-834',
      identifiers: { ref: { '23': { system: 'urn:oid:2.16.840.1.113883.3.999.23' } } },
      attribution: { aco: { n1: 'P5', element: 2 }, cp: { reportingCategory: 'BRANCH - WORKER' } },
    });
    const [r] = records(await collect(readX12Members(createReadStream(join(CORPUS_DIR, file)), l)));
    expect(r).toMatchObject({
      line: 8,
      action: 'upsert',
      memberId: 'REF OF',
      name: { family: 'SUBSCRIBER LAST 1', given: ['SUBSCRIBER FIRST 1', 'M'] },
      birthDate: '1983-07-19', // the NM1*70 loop's DMG (1993) is the old, incorrect one
      sex: 'female',
      phone: '5554718931',
      address: { line: ['SUBSCRIBER1 ADDRESS 1'], city: 'GRANTS PASS', state: 'OR', postalCode: '97526-0000' },
      attribution: { aco: 'OR-MMIS', cp: '1234567', start: '2012-09-01', end: '2013-03-31' },
    });
    expect(r.identifiers).toContainEqual({ system: 'urn:oid:2.16.840.1.113883.3.999.23', value: 'REF 23' });
  });

  it('reads the NY dental 834: member id from NM1 MI when REF*0F is not the key, coverage end date', async () => {
    const file = 'edi-834-validator/data/sample-834Dental.edi';
    const l = layout({
      format: 'x12-834',
      memberId: [{ nm1: 'MI' }],
      identifiers: { ref: { '0F': { system: 'urn:oid:2.16.840.1.113883.3.999.0F' } } },
    });
    const [r] = records(await collect(readX12Members(createReadStream(join(CORPUS_DIR, file)), l)));
    expect(r).toMatchObject({
      line: 9,
      memberId: '9466393649',
      name: { family: 'MASSARIA', given: ['DORRIE'] },
      birthDate: '1953-04-30',
      address: { city: 'BROOKLYN', state: 'NY', postalCode: '11216' },
      attribution: { start: '2024-09-30', end: '2024-09-30' },
    });
    expect(r.identifiers).toContainEqual({ system: 'urn:oid:2.16.840.1.113883.3.999.0F', value: '312522809' });
  });
});
