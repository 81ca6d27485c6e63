import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_ADAPTERS } from '../../../adapters/index.js';
import { builtinAdapters } from '../../../src/conversion/builtin.js';
import { MappingError, UnsupportedMessageError } from '../../../src/conversion/errors.js';
import { AdapterRegistry } from '../../../src/conversion/registry.js';
import type { Conversion, MessageAdapter } from '../../../src/conversion/types.js';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { convertParsed } from '../../../src/ingest/convert-message.js';
import { loadProfile } from '../../../src/mapping/profile-loader.js';

const ROOT = join(import.meta.dirname, '../../..');
const profile = loadProfile({});

const msg = (type: string, event = 'A01', extra = '') =>
  Hl7Message.parse(
    `MSH|^~\\&|APP|FAC|RCV|RFAC|20240101120000||${type}^${event}|C1|P|2.5.1\rEVN|${event}|20240101120000\rPID|1||MRN1^^^HOSP^MR||DOE^JANE||19800101|F\rPV1|1|I|W^1^1^FAC${extra}`,
  );

describe('the built-in adapter registry', () => {
  it('lists the ADT adapter and finds it for the events it converts, not for other types or events', () => {
    expect(BUILTIN_ADAPTERS.map((a) => a.id)).toContain('hl7v2-adt');
    expect(builtinAdapters.find(msg('ADT', 'A01'))?.id).toBe('hl7v2-adt');
    expect(builtinAdapters.find(msg('ZZZ', 'Z01'))).toBeUndefined();
  });

  it('returns the generic Conversion: adapter id, message type, event and routing facts', () => {
    const r = convertParsed(msg('ADT', 'A01'), profile);
    if (!r.ok) throw new Error(r.reason);
    const c: Conversion = r.conversion;
    expect(c.adapterId).toBe('hl7v2-adt');
    expect(c.messageType).toBe('ADT');
    expect(c.event).toBe('A01');
    expect(c.sender).toBe('APP^FAC');
    expect(c.patientClass).toBe('I');
    expect(c.patient?.resourceType).toBe('Patient');
    expect(c.bundle.type).toBe('message');
  });

  it('says which message had no converter', () => {
    const r = convertParsed(msg('ZZZ', 'Z01'), profile);
    expect(r).toMatchObject({ ok: false, kind: 'unsupported', reason: 'no converter for ZZZ^Z01' });
  });

  it('takes any registry, so an adapter is added without touching the engine', () => {
    const calls: string[] = [];
    const oru: MessageAdapter = {
      id: 'test-oru',
      handles: { types: ['ORU'] },
      convert(m) {
        calls.push(m.controlId);
        throw new UnsupportedMessageError('ORU without OBR', '201');
      },
    };
    const mapping: MessageAdapter = {
      id: 'test-mdm',
      handles: { types: ['MDM'], events: ['T02'] },
      convert() {
        throw new MappingError('TXA-12 is empty', 'TXA-12');
      },
    };
    const registry = new AdapterRegistry([oru, mapping]);
    expect(convertParsed(msg('ORU', 'R01'), profile, registry)).toMatchObject({
      ok: false,
      kind: 'unsupported',
      reason: 'no converter for ORU^R01: ORU without OBR',
    });
    expect(convertParsed(msg('MDM', 'T02'), profile, registry)).toMatchObject({
      ok: false,
      kind: 'mapping',
      reason: 'TXA-12 is empty (TXA-12)',
    });
    expect(convertParsed(msg('MDM', 'T01'), profile, registry)).toMatchObject({
      ok: false,
      kind: 'unsupported',
      reason: 'no converter for MDM^T01',
    });
    expect(calls).toEqual(['C1']);
  });

  it('is the only way the engine reaches an HL7 v2 adapter (no src/ module imports one directly)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) {
          const rel = relative(ROOT, path);
          if (rel === join('src', 'conversion', 'builtin.ts')) continue;
          const text = readFileSync(path, 'utf8');
          if (/from\s+'[./]*adapters\/(index\.js|hl7v2-)/.test(text)) offenders.push(rel);
        }
      }
    };
    walk(join(ROOT, 'src'));
    expect(offenders).toEqual([]);
  });
});

describe('routing facts of a message no adapter converts', () => {
  it('are read from the message as sent (for passthrough routes and the sensitivity policy), without identifiers', async () => {
    const { routingFactsOf } = await import('../../../src/conversion/message-facts.js');
    const m = Hl7Message.parse(
      'MSH|^~\\&|LAB|BHH|RCV|RFAC|20240101120000||ORU^R01|C9|P|2.5.1\rPID|1||MRN1^^^HOSP^MR\rPV1|1|O|CLINIC^1^1^BHCENTER|||||||PSY\rOBR|1',
    );
    expect(routingFactsOf(m)).toEqual({
      sender: 'LAB^BHH',
      messageType: 'ORU',
      event: 'R01',
      patientIdentifiers: [],
      patientClass: 'O',
      facilityCodes: ['BHCENTER', 'BHH'],
      hospitalService: 'PSY',
      eventDate: undefined,
    });
  });
});
