import { describe, expect, it } from 'vitest';
import { createMllpDeliverer, type MllpSend } from '../../../src/delivery/deliverers/mllp.js';
import { controlIdOf, parseAck } from '../../../src/delivery/mllp-ack.js';
import type { MllpDestination } from '../../../src/delivery/types.js';

const destination: MllpDestination = { id: 'hie', type: 'mllp', host: '127.0.0.1', port: 2575, timeoutMs: 100 };
const ctx = { deliveryId: 'd1', attempt: 1 };
const ADT = 'MSH|^~\\&|CAREBRIDGE|CB|HIE|HIE|20260102030405||ADT^A01^ADT_A01|CTRL-1|P|2.5.1\rPID|1||MRN1^^^H^MR||DOE^JANE\r';

function ack(code: string, controlId = 'CTRL-1', extra = ''): Buffer {
  return Buffer.from(
    `MSH|^~\\&|HIE|HIE|CAREBRIDGE|CB|20260102030406||ACK^A01^ACK|A-1|P|2.5.1\rMSA|${code}|${controlId}|text\r${extra}`,
    'latin1',
  );
}

function replying(reply: Buffer): { send: MllpSend; sent: Buffer[] } {
  const sent: Buffer[] = [];
  return { sent, send: async (message) => (sent.push(message), reply) };
}

describe('MLLP deliverer', () => {
  it.each(['AA', 'CA'])('delivers on %s', async (code) => {
    const { send, sent } = replying(ack(code));
    expect(await createMllpDeliverer(send)(ADT, destination, ctx)).toMatchObject({ kind: 'delivered', status: code });
    expect(sent[0].toString('utf8')).toBe(ADT);
  });

  it.each([
    ['AE', 'retry'],
    ['CE', 'retry'],
    ['AR', 'retry'],
    ['CR', 'fatal'],
  ] as const)('treats %s as %s by default', async (code, kind) => {
    const outcome = await createMllpDeliverer(replying(ack(code)).send)(ADT, destination, ctx);
    expect(outcome).toMatchObject({ kind, status: code, error: `negative acknowledgment ${code}` });
  });

  it('treats AR for an unsupported message type (ERR-3 = 200) as fatal', async () => {
    const err = 'ERR|||200^Unsupported message type^HL70357|E\r';
    expect(await createMllpDeliverer(replying(ack('AR', 'CTRL-1', err)).send)(ADT, destination, ctx)).toMatchObject({
      kind: 'fatal',
      error: 'negative acknowledgment AR (ERR 200)',
    });
  });

  it('reads v2.3-style ERR-1 error codes too', async () => {
    const err = 'ERR|MSH^1^12^203&Unsupported version id&HL70357\r';
    expect((await createMllpDeliverer(replying(ack('AR', 'CTRL-1', err)).send)(ADT, destination, ctx)).kind).toBe('fatal');
  });

  it('keeps AR with an application error code retryable', async () => {
    const err = 'ERR|||207^Application internal error^HL70357|E\r';
    expect((await createMllpDeliverer(replying(ack('AR', 'CTRL-1', err)).send)(ADT, destination, ctx)).kind).toBe('retry');
  });

  it('applies a per-destination ackPolicy', async () => {
    const strict: MllpDestination = { ...destination, ackPolicy: { AE: 'fatal', CR: 'retry' } };
    expect((await createMllpDeliverer(replying(ack('AE')).send)(ADT, strict, ctx)).kind).toBe('fatal');
    expect((await createMllpDeliverer(replying(ack('CR')).send)(ADT, strict, ctx)).kind).toBe('retry');
  });

  it('retries an ACK that answers another control id', async () => {
    expect(await createMllpDeliverer(replying(ack('AA', 'CTRL-0')).send)(ADT, destination, ctx)).toMatchObject({
      kind: 'retry',
      error: 'ACK is for a different control id',
    });
  });

  it('retries a reply without MSA or with an unknown code', async () => {
    expect((await createMllpDeliverer(replying(Buffer.from('garbage')).send)(ADT, destination, ctx)).kind).toBe('retry');
    expect(await createMllpDeliverer(replying(ack('ZZ')).send)(ADT, destination, ctx)).toMatchObject({
      kind: 'retry',
      error: 'unrecognized acknowledgment code',
    });
  });

  it('retries on timeout and aborts the send', async () => {
    let signal: AbortSignal | undefined;
    const hang: MllpSend = (_m, _d, s) => {
      signal = s;
      return new Promise<Buffer>(() => {});
    };
    expect(await createMllpDeliverer(hang)(ADT, destination, ctx)).toMatchObject({ kind: 'retry', error: 'timeout after 100 ms' });
    expect(signal?.aborted).toBe(true);
  });

  it('retries transport errors', async () => {
    const refused: MllpSend = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    expect(await createMllpDeliverer(refused)(ADT, destination, ctx)).toMatchObject({ kind: 'retry', error: 'connection refused' });
  });

  it('forwards bytes unchanged', async () => {
    const latin1 = Buffer.from(`${ADT.replace('DOE', 'MÜLLER')}`, 'latin1');
    const { send, sent } = replying(ack('AA'));
    await createMllpDeliverer(send)(latin1, destination, ctx);
    expect(sent[0].equals(latin1)).toBe(true);
  });
});

describe('parseAck / controlIdOf', () => {
  it('uses the separators declared in MSH', () => {
    const parsed = parseAck('MSH#@~\\&#HIE#HIE\nMSA#AE@x#C9#bad thing\nERR###207@Internal#E\n');
    expect(parsed).toEqual({ code: 'AE', controlId: 'C9', text: 'bad thing', errorCodes: ['207'] });
  });

  it('accepts CRLF, a BOM and lower-case codes', () => {
    expect(parseAck('\uFEFFMSH|^~\\&|A\r\nMSA|aa|X1\r\n')).toMatchObject({ code: 'AA', controlId: 'X1' });
  });

  it('finds MSH-10 of the outgoing message', () => {
    expect(controlIdOf(ADT)).toBe('CTRL-1');
    expect(controlIdOf('PID|1')).toBeUndefined();
  });
});
