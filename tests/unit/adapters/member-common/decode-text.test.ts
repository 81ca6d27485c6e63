import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../../adapters/member-common/decode-text.js';
import { chunked } from './helpers.js';

async function text(gen: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const part of gen) out += part;
  return out;
}

describe('decodeText', () => {
  it('drops a UTF-8 BOM and keeps multi-byte characters split across chunks', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('José,Zoë\n', 'utf8')]);
    expect(await text(decodeText(chunked(bytes, [1])))).toBe('José,Zoë\n');
  });

  it('reads UTF-16LE with a BOM whatever the configured encoding (Excel "Unicode text")', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ID\tNAME\r\n1\tJosé\r\n', 'utf16le')]);
    expect(await text(decodeText(chunked(bytes, [3, 1]), 'latin1'))).toBe('ID\tNAME\r\n1\tJosé\r\n');
  });

  it('decodes latin1 / windows-1252 when configured', async () => {
    expect(await text(decodeText(chunked(Buffer.from([0x4a, 0x6f, 0x73, 0xe9])), 'latin1'))).toBe('José');
  });

  it('handles files shorter than a BOM, empty input and string chunks', async () => {
    expect(await text(decodeText(chunked('a')))).toBe('a');
    expect(await text(decodeText(chunked('')))).toBe('');
    async function* strings() {
      yield '\uFEFFab';
      yield 'c';
    }
    expect(await text(decodeText(strings()))).toBe('abc');
  });
});
