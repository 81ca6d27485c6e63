import { describe, expect, it } from 'vitest';
import {
  ackModeOf,
  ackSourceOf,
  ackWanted,
  buildAck,
  HL7_ERROR,
  Hl7Message,
  MessageSplitter,
  scrapeAckSource,
  splitMessages,
} from '../../../src/hl7v2/index.js';

const msg = (id: string, term = '\r') => [`MSH|^~\\&|A|B|C|D|20240101||ADT^A04|${id}|P|2.5.1`, 'EVN|A04', `PID|1||${id}`].join(term) + term;

describe('splitting files and batches', () => {
  it('splits concatenated messages keeping exact bytes', () => {
    const text = msg('1') + '\n' + msg('2', '\n') + msg('3', '\r\n');
    const { items, warnings } = splitMessages(text);
    const msgs = items.filter((i) => i.kind === 'message');
    expect(msgs.map((m) => Hl7Message.parse(m.bytes).controlId)).toEqual(['1', '2', '3']);
    expect(Buffer.concat(msgs.map((m) => (m.kind === 'message' ? m.bytes : Buffer.alloc(0)))).toString()).toBe(text);
    expect(warnings).toEqual([]);
  });

  it('splits FHS/BHS batches and checks trailer counts', () => {
    const text = `FHS|^~\\&|A\rBHS|^~\\&|A\r${msg('1')}${msg('2')}BTS|2\rBHS|^~\\&|A\r${msg('3')}BTS|5\rFTS|3\r`;
    const { items, warnings } = splitMessages(text);
    expect(items.filter((i) => i.kind === 'message')).toHaveLength(3);
    expect(warnings).toEqual([
      'BTS-1 at line 14 declares 5 messages but the batch has 1',
      'FTS-1 at line 15 declares 3 batches but the file has 2',
    ]);
  });

  it('is independent of how the stream is chunked', () => {
    const text = Buffer.from(`\uFEFFFHS|^~\\&\rBHS|^~\\&\r${msg('1', '\r\n')}${msg('2', '\r\n')}BTS|2\r\nFTS|1\r\n`);
    const whole = splitMessages(text).items;
    for (let size = 1; size < 40; size += 3) {
      const s = new MessageSplitter();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...s.push(text.subarray(i, i + size)));
      got.push(...s.end());
      expect(got).toEqual(whole);
      expect(s.warnings).toEqual([]);
    }
  });

  it('reports data outside any message with its line number', () => {
    const { items } = splitMessages(`garbage line\r${msg('1')}`);
    expect(items[0]).toEqual({ kind: 'junk', line: 1, reason: 'line 1 is outside any message (no MSH before it)' });
    expect(items[1].kind).toBe('message');
  });
});

describe('ACK builder', () => {
  const orig = Hl7Message.parse('MSH|^~\\&|EPIC|MGH|CB|CP1|20240501083000||ADT^A01^ADT_A01|MSG7|P|2.5.1\rPID|1||1');
  const at = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));

  it('original mode AA echoes MSH-10 in MSA-2 and swaps sender/receiver', () => {
    const ack = Hl7Message.parse(buildAck(ackSourceOf(orig), { code: 'AA', timestamp: at }));
    expect(ack.get('MSH-3')).toBe('CB');
    expect(ack.get('MSH-4')).toBe('CP1');
    expect(ack.get('MSH-5')).toBe('EPIC');
    expect(ack.get('MSH-6')).toBe('MGH');
    expect(ack.get('MSH-7')).toBe('20240501120000+0000');
    expect(ack.get('MSH-9.1')).toBe('ACK');
    expect(ack.get('MSH-9.2')).toBe('A01');
    expect(ack.get('MSH-12')).toBe('2.5.1');
    expect(ack.get('MSA-1')).toBe('AA');
    expect(ack.get('MSA-2')).toBe('MSG7');
    expect(ack.segment('ERR')).toBeUndefined();
  });

  it('AE with an ERR segment: location, HL7 error code, severity', () => {
    const text = buildAck(ackSourceOf(orig), {
      code: 'AE',
      error: { code: HL7_ERROR.REQUIRED_FIELD_MISSING, location: { segment: 'PID', field: 3 }, message: 'PID-3 is empty' },
    });
    const ack = Hl7Message.parse(text);
    expect(ack.get('MSA-1')).toBe('AE');
    expect(ack.get('ERR-2.1')).toBe('PID');
    expect(ack.get('ERR-2.3')).toBe('3');
    expect(ack.get('ERR-3.1')).toBe('101');
    expect(ack.get('ERR-3.3')).toBe('HL70357');
    expect(ack.get('ERR-4')).toBe('E');
    expect(ack.get('ERR-8')).toBe('PID-3 is empty');
  });

  it('uses ERR-1 (ELD) for v2.3/2.4', () => {
    const old = Hl7Message.parse('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|9|P|2.3\rPID|1');
    const ack = Hl7Message.parse(
      buildAck(ackSourceOf(old), { code: 'AR', error: { code: '200', location: { segment: 'MSH', field: 9 } } }),
    );
    expect(ack.get('ERR-1.1')).toBe('MSH');
    expect(ack.get('ERR-1.4.1')).toBe('200');
  });

  it('enhanced mode follows MSH-15/MSH-16', () => {
    const enh = Hl7Message.parse('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|9|P|2.5|||AL|ER\rPID|1');
    const mode = ackModeOf(ackSourceOf(enh));
    expect(mode).toEqual({ mode: 'enhanced', accept: 'AL', application: 'ER' });
    expect(ackWanted(mode.application, true)).toBe(false);
    expect(ackWanted(mode.application, false)).toBe(true);
    expect(ackModeOf(ackSourceOf(orig)).mode).toBe('original');
    const ack = Hl7Message.parse(buildAck(ackSourceOf(enh), { code: 'CA' }));
    expect(ack.get('MSA-1')).toBe('CA');
  });

  it('scrapes enough of a broken message to NACK it', () => {
    const src = scrapeAckSource('MSH|^~\\&|LAB|H1|CB|CP|20240101||ADT^A99|C55|P|2.5\rPID|1|\x00garbage');
    expect(src.controlId).toBe('C55');
    expect(src.triggerEvent).toBe('A99');
    const ack = Hl7Message.parse(buildAck(src, { code: 'AR', error: { code: HL7_ERROR.UNSUPPORTED_EVENT } }));
    expect(ack.get('MSA-2')).toBe('C55');
    expect(scrapeAckSource('\x00\x01 no header').controlId).toBe('');
  });
});
