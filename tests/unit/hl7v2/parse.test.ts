import { describe, expect, it } from 'vitest';
import {
  Hl7Message,
  Hl7ParseError,
  readCX,
  readCWE,
  readEI,
  readHD,
  readTS,
  readXAD,
  readXCN,
  readXPN,
  readXTN,
} from '../../../src/hl7v2/index.js';

const A01 = [
  'MSH|^~\\&|EPIC|MGH|CB|CP1|20240501083000-0400||ADT^A01^ADT_A01|MSG00001|P|2.5.1|||AL|NE||UNICODE UTF-8',
  'EVN|A01|20240501083000',
  'PID|1||12345^^^MGH&2.16.840.1.113883.3.1&ISO^MR~MA123456789^^^MAMH^MA||DOE^JANE^Q^JR^DR^^L~SMITH^JANE^^^^^M||19800101|F|||1 MAIN ST^APT 2^BOSTON^MA^02114^USA^H||^PRN^PH^^1^617^5551212~^NET^Internet^jane@example.org',
  'PV1|1|I|ICU^101^A^MGH||||1234^WELBY^MARCUS^^^DR^MD^^NPI&2.16.840.1.113883.4.6&ISO',
  'ZPI|custom|stuff',
].join('\r');

describe('parsing', () => {
  it('reads fields, repetitions, components and subcomponents 1-based', () => {
    const m = Hl7Message.parse(A01);
    expect(m.messageType).toBe('ADT');
    expect(m.triggerEvent).toBe('A01');
    expect(m.messageStructure).toBe('ADT_A01');
    expect(m.controlId).toBe('MSG00001');
    expect(m.version).toBe('2.5.1');
    expect(m.get('PID-3[2].1')).toBe('MA123456789');
    expect(m.get('PID-3.4.2')).toBe('2.16.840.1.113883.3.1');
    expect(m.get('PID-5[2].1')).toBe('SMITH');
    expect(m.get('PV1-44')).toBe('');
    expect(m.get('PID-99')).toBe('');
    expect(m.get('ZPI-2')).toBe('stuff');
    const pid = m.segment('PID')!;
    expect(pid.repetitions(3)).toBe(2);
    expect(pid.repetitions(4)).toBe(0);
    expect(pid.components(5)).toBe(7);
  });

  it('treats MSH-1 and MSH-2 as the delimiters, not data', () => {
    const m = Hl7Message.parse(A01);
    expect(m.get('MSH-1')).toBe('|');
    expect(m.get('MSH-2')).toBe('^~\\&');
    expect(m.get('MSH-3')).toBe('EPIC');
    expect(m.msh.fieldCount).toBe(18);
  });

  it('takes delimiters from MSH-1/MSH-2, including a fifth (truncation) character', () => {
    const m = Hl7Message.parse('MSH#$*@%!#A#B#C#D#20240101##ADT$A08#1#P#2.7\rPID#1##X$Y*Z$$$AUTH');
    expect(m.delimiters).toMatchObject({ field: '#', component: '$', repetition: '*', escape: '@', subcomponent: '%', truncation: '!' });
    expect(m.triggerEvent).toBe('A08');
    expect(m.get('PID-3[2].1')).toBe('Z');
    expect(m.get('PID-3[2].4')).toBe('AUTH');
  });

  it('accepts CR, LF, CRLF and a mix, blank lines, a BOM and no final terminator', () => {
    const segs = ['MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.3', 'EVN|A04', 'PID|1||42', 'PV1|1|O'];
    for (const text of [
      segs.join('\r'),
      segs.join('\n') + '\n',
      segs.join('\r\n') + '\r\n',
      `${segs[0]}\r${segs[1]}\n${segs[2]}\r\n\r\n${segs[3]}\r`,
      `\uFEFF${segs.join('\r')}\r`,
      `\n\n${segs.join('\r\n\n')}`,
    ]) {
      const m = Hl7Message.parse(text);
      expect(m.segments.map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
      expect(m.get('PID-3')).toBe('42');
      expect(m.encode()).toBe(text);
    }
  });

  it('keeps a subcomponent-only field as subcomponents', () => {
    const m = Hl7Message.parse('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\rPID|1||a&b&c');
    const pid = m.segment('PID')!;
    expect(pid.subcomponents(3)).toBe(3);
    expect(pid.get(3, 1, 1, 2)).toBe('b');
    expect(pid.raw(3)).toBe('a&b&c');
    expect(m.encode()).toBe(m.raw);
  });

  it('decodes escape sequences on read and leaves unknown ones alone', () => {
    const m = Hl7Message.parse(
      'MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\rNTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g\\X41C3A9\\h\\H\\bold\\N\\ C:\\temp',
    );
    expect(m.get('NTE-3')).toBe('a|b^c&d~e\\f\ngAéh\\H\\bold\\N\\ C:\\temp');
  });

  it('distinguishes the explicit null "" from empty', () => {
    const m = Hl7Message.parse('MSH|^~\\&|A||||20240101||ADT^A08|1|P|2.5\rPID|1||42||""|');
    const pid = m.segment('PID')!;
    expect(pid.get(5)).toBe('');
    expect(pid.isNull(5)).toBe(true);
    expect(pid.isNull(6)).toBe(false);
    expect(pid.raw(5)).toBe('""');
  });

  it('keeps Z-segments and several segments of the same name', () => {
    const m = Hl7Message.parse('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\rOBX|1|ST|a\rOBX|2|ST|b\rZVN|x');
    expect(m.segmentsNamed('OBX').map((s) => s.get(3))).toEqual(['a', 'b']);
    expect(m.get('OBX[2]-3')).toBe('b');
    expect(m.segment('ZVN')?.get(1)).toBe('x');
  });
});

describe('typed readers', () => {
  const m = Hl7Message.parse(A01);
  const pid = m.segment('PID')!;
  it('CX with HD assigning authority', () => {
    expect(readCX(pid, 3, 1)).toMatchObject({
      id: '12345',
      identifierTypeCode: 'MR',
      assigningAuthority: { namespaceId: 'MGH', universalId: '2.16.840.1.113883.3.1', universalIdType: 'ISO' },
    });
    expect(readCX(pid, 3, 2).assigningAuthority.namespaceId).toBe('MAMH');
  });
  it('XPN, XAD, XTN', () => {
    expect(readXPN(pid, 5)).toMatchObject({ family: 'DOE', given: 'JANE', middle: 'Q', suffix: 'JR', prefix: 'DR', nameTypeCode: 'L' });
    expect(readXAD(pid, 11)).toMatchObject({
      street: '1 MAIN ST',
      otherDesignation: 'APT 2',
      city: 'BOSTON',
      state: 'MA',
      zip: '02114',
      country: 'USA',
      addressType: 'H',
    });
    expect(readXTN(pid, 13, 1)).toMatchObject({
      useCode: 'PRN',
      equipmentType: 'PH',
      countryCode: '1',
      areaCode: '617',
      localNumber: '5551212',
    });
    expect(readXTN(pid, 13, 2).email).toBe('jane@example.org');
  });
  it('XCN, HD, CWE, TS', () => {
    const pv1 = m.segment('PV1')!;
    expect(readXCN(pv1, 7)).toMatchObject({ id: '1234', family: 'WELBY', given: 'MARCUS', prefix: 'DR', degree: 'MD' });
    expect(readXCN(pv1, 7).assigningAuthority.universalId).toBe('2.16.840.1.113883.4.6');
    expect(readHD(m.msh, 3)).toEqual({ namespaceId: 'EPIC', universalId: '', universalIdType: '' });
    const cwe = Hl7Message.parse('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\rDG1|1||F32.9^Major depression^I10^296.20^MDD^I9C^2019^^orig');
    expect(readCWE(cwe.segment('DG1')!, 3)).toMatchObject({
      code: 'F32.9',
      text: 'Major depression',
      system: 'I10',
      altCode: '296.20',
      altSystem: 'I9C',
      systemVersion: '2019',
      originalText: 'orig',
    });
    expect(readTS(m.msh, 7).value).toBe('20240501083000-0400');
  });
  it('EI (entity id, namespace, universal id, its type)', () => {
    const obr = Hl7Message.parse('MSH|^~\\&|A||||20240101||ORU^R01|1|P|2.5\rOBR|1|ORD1^EHR^1.2.3^ISO|R-5^LAB').segment('OBR')!;
    expect(readEI(obr, 2)).toEqual({ entityId: 'ORD1', namespaceId: 'EHR', universalId: '1.2.3', universalIdType: 'ISO' });
    expect(readEI(obr, 3)).toEqual({ entityId: 'R-5', namespaceId: 'LAB', universalId: '', universalIdType: '' });
    expect(readEI(obr, 4)).toEqual({ entityId: '', namespaceId: '', universalId: '', universalIdType: '' });
  });
});

describe('encoding', () => {
  it('round-trips unmodified messages byte-exact', () => {
    const m = Hl7Message.parse(A01);
    expect(m.encode()).toBe(A01);
  });
  it('escapes delimiters when setting a value and keeps terminators', () => {
    const text = 'MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\r\nPID|1||42||DOE^JOHN\r\nPV1|1|I\r\n';
    const m = Hl7Message.parse(text);
    m.set('PID-5.1', 'O|BRIEN^&~\\');
    expect(m.get('PID-5.1')).toBe('O|BRIEN^&~\\');
    expect(m.get('PID-5.2')).toBe('JOHN');
    expect(m.encode()).toBe('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\r\nPID|1||42||O\\F\\BRIEN\\S\\\\T\\\\R\\\\E\\^JOHN\r\nPV1|1|I\r\n');
    expect(Hl7Message.parse(m.encode()).get('PID-5.1')).toBe('O|BRIEN^&~\\');
  });
  it('grows fields, repetitions and components when setting beyond the end', () => {
    const m = Hl7Message.parse('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\rPID|1');
    m.set('PID-3[2].4.2', '1.2.3');
    expect(m.segment('PID')!.toString()).toBe('PID|1||~^^^&1.2.3');
    m.set('MSH-10', 'X9');
    expect(m.controlId).toBe('X9');
  });
});

describe('malformed input gives a typed error, never anything else', () => {
  const cases: [string, string | Uint8Array, string][] = [
    ['empty', '', 'EMPTY'],
    ['blank', '\r\n\r\n', 'EMPTY'],
    ['no MSH', 'PID|1||42', 'NO_MSH'],
    ['truncated MSH', 'MSH', 'TRUNCATED_MSH'],
    ['MSH without encoding chars', 'MSH|', 'TRUNCATED_MSH'],
    ['missing MSH-9', 'MSH|^~\\&|A||||20240101|||1|P|2.5', 'MISSING_FIELD'],
    ['missing MSH-10', 'MSH|^~\\&|A||||20240101||ADT^A01||P|2.5', 'MISSING_FIELD'],
    ['bad segment id', 'MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\rpid|1', 'BAD_SEGMENT'],
    ['duplicate delimiters', 'MSH|^^\\&|A||||20240101||ADT^A01|1|P|2.5', 'BAD_DELIMITERS'],
    ['random bytes', new Uint8Array([0xff, 0x00, 0x13, 0x37, 0x80, 0x81]), 'NO_MSH'],
    [
      'bad UTF-8 when declared',
      Buffer.concat([Buffer.from('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||'), Buffer.from([0xc3, 0x28])]),
      'CHARSET',
    ],
    [
      'non-ASCII when ASCII declared',
      Buffer.concat([Buffer.from('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5||||||ASCII\rPID|1||'), Buffer.from([0xe9])]),
      'CHARSET',
    ],
  ];
  for (const [name, input, code] of cases) {
    it(name, () => {
      try {
        Hl7Message.parse(input);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(Hl7ParseError);
        expect((e as Hl7ParseError).code).toBe(code);
        expect((e as Error).message).not.toMatch(/undefined|TypeError/);
      }
    });
  }
  it('names the byte offset of undecodable bytes', () => {
    const head = Buffer.from('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||');
    try {
      Hl7Message.parse(Buffer.concat([head, Buffer.from([0xc3, 0x28])]));
    } catch (e) {
      expect((e as Hl7ParseError).position.offset).toBe(head.length);
      expect((e as Error).message).toContain(`offset ${head.length}`);
    }
  });
  it('rejects oversized messages', () => {
    expect(() => Hl7Message.parse('MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5\r' + 'NTE|' + 'x'.repeat(2000), { maxLength: 1000 })).toThrow(
      /exceeds the limit/,
    );
  });
});

describe('character sets (MSH-18)', () => {
  const body = (cs: string) => Buffer.from(`MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.5||||||${cs}\rPID|1||42||`, 'latin1');
  it('UTF-8', () => {
    const m = Hl7Message.parse(Buffer.concat([body('UNICODE UTF-8'), Buffer.from('Müller^José', 'utf8')]));
    expect(m.get('PID-5.1')).toBe('Müller');
    expect(m.charset).toBe('UTF-8');
  });
  it('8859/1', () => {
    const m = Hl7Message.parse(Buffer.concat([body('8859/1'), Buffer.from('Müller', 'latin1')]));
    expect(m.get('PID-5.1')).toBe('Müller');
  });
  it('8859/2 via ICU', () => {
    const m = Hl7Message.parse(Buffer.concat([body('8859/2'), Buffer.from([0x8a - 0x8a + 0xa9])])); // 0xA9 = Š in 8859-2
    expect(m.get('PID-5.1')).toBe('Š');
  });
  it('undeclared latin-1 bytes fall back with a warning', () => {
    const m = Hl7Message.parse(Buffer.concat([body(''), Buffer.from('Müller', 'latin1')]));
    expect(m.get('PID-5.1')).toBe('Müller');
    expect(m.warnings[0]).toMatch(/ISO-8859-1/);
  });
});
