import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MllpDecoder, OVERSIZE_HEAD_BYTES, encodeFrame, type OversizeFrame, type ProtocolIssue } from '../../../src/mllp/codec.js';
import { isMllpError } from '../../../src/mllp/errors.js';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

function collect(maxMessageBytes?: number) {
  const frames: string[] = [];
  const issues: ProtocolIssue[] = [];
  const oversize: OversizeFrame[] = [];
  const decoder = new MllpDecoder({
    maxMessageBytes,
    onFrame: (p) => frames.push(p.toString('latin1')),
    onIssue: (i) => issues.push(i),
    onOversize: (o) => oversize.push(o),
  });
  return { decoder, frames, issues, oversize };
}

const frame = (s: string) => encodeFrame(Buffer.from(s, 'latin1'));
const MSG1 = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|||123';
const MSG2 = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A03|2|P|2.5\rPID|||456';

describe('encodeFrame', () => {
  it('wraps the payload in VT ... FS CR', () => {
    const out = encodeFrame(Buffer.from('abc'));
    expect([...out]).toEqual([VT, 0x61, 0x62, 0x63, FS, CR]);
  });

  it('refuses payloads containing the block bytes', () => {
    for (const bad of [Buffer.from([0x41, VT]), Buffer.from([FS, 0x41])]) {
      let caught: unknown;
      try {
        encodeFrame(bad);
      } catch (err) {
        caught = err;
      }
      expect(isMllpError(caught, 'INVALID_PAYLOAD')).toBe(true);
    }
  });
});

describe('MllpDecoder', () => {
  const stream = Buffer.concat([frame(MSG1), frame(MSG2)]);

  it('decodes two frames delivered in one chunk', () => {
    const c = collect();
    c.decoder.push(stream);
    expect(c.frames).toEqual([MSG1, MSG2]);
    expect(c.issues).toEqual([]);
    expect(c.decoder.hasPartialFrame).toBe(false);
  });

  it('decodes the same two frames split at every byte position', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const c = collect();
      c.decoder.push(stream.subarray(0, cut));
      c.decoder.push(stream.subarray(cut));
      expect(c.frames, `cut at ${cut}`).toEqual([MSG1, MSG2]);
      expect(c.issues, `cut at ${cut}`).toEqual([]);
    }
  });

  it('decodes the stream split at every pair of positions', () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const c = collect();
        c.decoder.push(stream.subarray(0, a));
        c.decoder.push(stream.subarray(a, b));
        c.decoder.push(stream.subarray(b));
        expect(c.frames).toEqual([MSG1, MSG2]);
        expect(c.issues).toEqual([]);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const c = collect();
    for (const byte of stream) c.decoder.push(Buffer.from([byte]));
    expect(c.frames).toEqual([MSG1, MSG2]);
    expect(c.issues).toEqual([]);
  });

  it('does not copy a payload that arrived in one chunk', () => {
    const chunk = frame(MSG1);
    let payload: Buffer | undefined;
    new MllpDecoder({ onFrame: (p) => (payload = p) }).push(chunk);
    expect(payload?.buffer).toBe(chunk.buffer);
    expect(payload?.byteOffset).toBe(chunk.byteOffset + 1);
  });

  it('skips and reports garbage before, between and after frames', () => {
    const c = collect();
    c.decoder.push(Buffer.concat([Buffer.from('junk'), frame(MSG1), Buffer.from('xy'), frame(MSG2), Buffer.from('z')]));
    expect(c.frames).toEqual([MSG1, MSG2]);
    expect(c.issues).toEqual([
      { kind: 'garbage', bytes: 4 },
      { kind: 'garbage', bytes: 2 },
      { kind: 'garbage', bytes: 1 },
    ]);
  });

  it('skips CR/LF between frames without reporting them', () => {
    const c = collect();
    c.decoder.push(Buffer.concat([frame(MSG1), Buffer.from('\r\n\n'), frame(MSG2), Buffer.from('\n')]));
    expect(c.frames).toEqual([MSG1, MSG2]);
    expect(c.issues).toEqual([]);
  });

  it('emits a frame at FS even when the trailing CR is missing, and reports it', () => {
    const c = collect();
    const noCr = Buffer.concat([Buffer.from([VT]), Buffer.from(MSG1, 'latin1'), Buffer.from([FS])]);
    c.decoder.push(noCr);
    expect(c.frames).toEqual([MSG1]); // not held back waiting for the CR
    c.decoder.push(frame(MSG2));
    expect(c.frames).toEqual([MSG1, MSG2]);
    expect(c.issues).toEqual([{ kind: 'missing-trailer', bytes: 0 }]);
  });

  it('reports an empty frame instead of emitting it', () => {
    const c = collect();
    c.decoder.push(Buffer.concat([Buffer.from([VT, FS, CR]), frame(MSG1)]));
    expect(c.frames).toEqual([MSG1]);
    expect(c.issues).toEqual([{ kind: 'empty-frame', bytes: 2 }]);
  });

  it('drops a frame abandoned by a new start block and resyncs on it', () => {
    const c = collect();
    c.decoder.push(Buffer.concat([Buffer.from([VT]), Buffer.from('MSH|partial'), frame(MSG1)]));
    expect(c.frames).toEqual([MSG1]);
    expect(c.issues).toEqual([{ kind: 'unterminated-frame', bytes: 11 }]);
  });

  it('keeps a partial frame across chunks', () => {
    const c = collect();
    c.decoder.push(Buffer.from([VT, 0x41, 0x42]));
    expect(c.decoder.hasPartialFrame).toBe(true);
    expect(c.decoder.bufferedBytes).toBe(2);
    c.decoder.push(Buffer.from([0x43, FS, CR]));
    expect(c.frames).toEqual(['ABC']);
    expect(c.decoder.bufferedBytes).toBe(0);
  });

  describe('max message size', () => {
    it('accepts a payload of exactly the limit', () => {
      const c = collect(10);
      c.decoder.push(frame('0123456789'));
      expect(c.frames).toEqual(['0123456789']);
      expect(c.oversize).toEqual([]);
    });

    it('reports an oversize frame in one chunk and decodes the next frame', () => {
      const c = collect(10);
      c.decoder.push(Buffer.concat([frame('0123456789X'), frame('ok')]));
      expect(c.frames).toEqual(['ok']);
      expect(c.oversize).toHaveLength(1);
      expect(c.oversize[0].limit).toBe(10);
      expect(c.oversize[0].receivedBytes).toBe(11);
      expect(c.oversize[0].head.toString()).toBe('0123456789');
    });

    it('never buffers more than the limit while an oversize frame streams in', () => {
      const limit = 64 * 1024;
      const c = collect(limit);
      const head = Buffer.from('MSH|^~\\&|SND|FAC|RCV|FAC|20240101||ADT^A01|CTRL42|P|2.5\r');
      c.decoder.push(Buffer.concat([Buffer.from([VT]), head]));
      const filler = Buffer.alloc(8 * 1024, 0x41);
      let maxBuffered = 0;
      for (let i = 0; i < 100; i++) {
        c.decoder.push(filler);
        maxBuffered = Math.max(maxBuffered, c.decoder.bufferedBytes);
      }
      expect(maxBuffered).toBeLessThanOrEqual(limit);
      expect(c.oversize).toHaveLength(1);
      expect(c.oversize[0].head.length).toBe(OVERSIZE_HEAD_BYTES);
      expect(c.oversize[0].head.subarray(0, head.length).equals(head)).toBe(true);
      c.decoder.push(Buffer.from([FS, CR]));
      c.decoder.push(frame('next'));
      expect(c.frames).toEqual(['next']);
      expect(c.oversize).toHaveLength(1);
      expect(c.issues).toEqual([]);
    });

    it('resyncs at the next start block when an oversize frame never ends', () => {
      const c = collect(8);
      c.decoder.push(Buffer.concat([Buffer.from([VT]), Buffer.alloc(20, 0x41)]));
      expect(c.decoder.hasPartialFrame).toBe(true);
      c.decoder.push(Buffer.concat([Buffer.alloc(5, 0x42), frame('fits')]));
      expect(c.frames).toEqual(['fits']);
      expect(c.oversize).toHaveLength(1);
    });

    it('rejects a non-positive limit', () => {
      expect(() => new MllpDecoder({ maxMessageBytes: 0, onFrame: () => {} })).toThrow(RangeError);
    });
  });

  it('property: any payloads, any chunking, come out unchanged and in order', () => {
    const payload = fc
      .uint8Array({ minLength: 1, maxLength: 200 })
      .map((a) => Buffer.from(a.map((b) => (b === VT || b === FS ? 0x41 : b))));
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (payloads, cuts) => {
        const wire = Buffer.concat(payloads.map(encodeFrame));
        const positions = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const out: Buffer[] = [];
        const issues: ProtocolIssue[] = [];
        const decoder = new MllpDecoder({ onFrame: (p) => out.push(Buffer.from(p)), onIssue: (i) => issues.push(i) });
        let prev = 0;
        for (const p of [...positions, wire.length]) {
          decoder.push(wire.subarray(prev, p));
          prev = p;
        }
        expect(out.map((b) => b.toString('hex'))).toEqual(payloads.map((b) => b.toString('hex')));
        expect(issues).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
