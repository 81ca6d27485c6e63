import { describe, expect, it } from 'vitest';
import { NdjsonBytes } from '../../../src/cli/ndjson-bytes.js';

describe('NdjsonBytes', () => {
  it('encodes lines as UTF-8, one per line feed, growing past its first capacity', () => {
    const out = new NdjsonBytes(4);
    const lines = ['{"a":1}', '{"name":"Zoë Ñúñez 🏥"}', 'x'.repeat(10_000)];
    for (const l of lines) out.line(l);
    const bytes = out.bytes();
    expect(Buffer.from(bytes).toString('utf8')).toBe(lines.join('\n') + '\n');
  });

  it('owns its ArrayBuffer, so a worker can transfer it', () => {
    const out = new NdjsonBytes(1024);
    out.line('{}');
    const bytes = out.bytes();
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBeGreaterThanOrEqual(bytes.byteLength);
    const { port1 } = new MessageChannel();
    port1.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    port1.close();
    expect(bytes.buffer.byteLength).toBe(0);
  });

  it('is empty when no line was written', () => {
    expect(new NdjsonBytes(16).bytes().byteLength).toBe(0);
  });
});
