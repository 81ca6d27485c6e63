import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CAREBRIDGE_ID_NAMESPACE, isFhirId, isUuid, jsonStringArray, resourceId, urnUuid, uuidV5 } from '../../../src/fhir/ids.js';

const MRN = { namespace: 'general-hospital', system: 'urn:oid:2.16.840.1.113883.3.999.1', value: 'MRN123', resourceType: 'Patient' };

describe('uuidV5', () => {
  it('matches the RFC 9562 DNS-namespace example (known answer)', () => {
    // Test vector: uuid v5 of "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('sets version 5 and the RFC variant', () => {
    const id = uuidV5('anything');
    expect(id[14]).toBe('5');
    expect('89ab').toContain(id[19]);
  });

  it('agrees with a plain createHash reference for short, long, non-ASCII names and namespace switches', () => {
    // Reference: the textbook construction, so the scratch-buffer fast path can never drift from it.
    const reference = (name: string, ns: string) => {
      const h = createHash('sha1')
        .update(Buffer.from(ns.replace(/-/g, ''), 'hex'))
        .update(name, 'utf8')
        .digest();
      h[6] = (h[6] & 0x0f) | 0x50;
      h[8] = (h[8] & 0x3f) | 0x80;
      const x = h.toString('hex', 0, 16);
      return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
    };
    const other = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    const names = ['', 'a', 'Müller^José', '日本語の名前', 'x'.repeat(1400), 'é'.repeat(3000), JSON.stringify(['ns', 'Patient', 'MRN1'])];
    for (let i = 0; i < 64; i++) names.push(String.fromCharCode(...Array.from({ length: i * 7 }, (_, k) => 32 + ((k * 31 + i) % 2000))));
    for (const name of names) {
      expect(uuidV5(name)).toBe(reference(name, CAREBRIDGE_ID_NAMESPACE));
      expect(uuidV5(name, other)).toBe(reference(name, other));
      expect(uuidV5(name)).toBe(reference(name, CAREBRIDGE_ID_NAMESPACE));
    }
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow(TypeError);
  });
});

describe('resourceId', () => {
  it('is deterministic: a resend yields the same id', () => {
    expect(resourceId(MRN)).toBe(resourceId({ ...MRN }));
  });

  it('is a valid FHIR id and a UUID', () => {
    const id = resourceId(MRN);
    expect(isFhirId(id)).toBe(true);
    expect(isUuid(id)).toBe(true);
    expect(id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
  });

  it('the same MRN at two hospitals never collides', () => {
    expect(resourceId(MRN)).not.toBe(resourceId({ ...MRN, namespace: 'county-medical' }));
    expect(resourceId(MRN)).not.toBe(resourceId({ ...MRN, system: 'urn:oid:2.16.840.1.113883.3.999.2' }));
  });

  it('differs per resource type (unique urn:uuid fullUrls in one Bundle)', () => {
    expect(resourceId(MRN)).not.toBe(resourceId({ ...MRN, resourceType: 'Account' }));
    const { resourceType: _t, ...untyped } = MRN;
    expect(resourceId(untyped)).not.toBe(resourceId(MRN));
  });

  it('cannot be confused by separators inside parts', () => {
    const a = resourceId({ namespace: 'a|b', system: 'c', value: 'd' });
    const b = resourceId({ namespace: 'a', system: 'b|c', value: 'd' });
    const c = resourceId({ namespace: 'a","b', system: 'c', value: 'd' });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('has no collisions over many values', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i++) ids.add(resourceId({ ...MRN, value: `MRN${i}` }));
    expect(ids.size).toBe(20_000);
  });

  it('requires namespace, system and value', () => {
    expect(() => resourceId({ ...MRN, system: '' })).toThrow(/system/);
    expect(() => resourceId({ ...MRN, value: '' })).toThrow(/value/);
    expect(() => resourceId({ ...MRN, namespace: '' })).toThrow(/namespace/);
  });

  it('depends on the carebridge root namespace (pinned: changing it changes every id)', () => {
    expect(CAREBRIDGE_ID_NAMESPACE).toBe('3b6f0c1e-8d3a-4f5e-9a71-2c4d8e6b5f10');
    expect(resourceId(MRN)).toBe(uuidV5(JSON.stringify(['general-hospital', MRN.system, 'MRN123', 'Patient'])));
  });
});

describe('urnUuid', () => {
  it('wraps the deterministic id', () => {
    expect(urnUuid(MRN)).toBe(`urn:uuid:${resourceId(MRN)}`);
  });

  it('accepts an existing UUID and lower-cases it', () => {
    expect(urnUuid('0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e');
  });

  it('refuses a non-UUID id', () => {
    expect(() => urnUuid('patient-1')).toThrow(TypeError);
  });
});

describe('isFhirId', () => {
  it('accepts the FHIR id alphabet up to 64 characters', () => {
    expect(isFhirId('a.B-9')).toBe(true);
    expect(isFhirId('x'.repeat(64))).toBe(true);
    expect(isFhirId('x'.repeat(65))).toBe(false);
    expect(isFhirId('a_b')).toBe(false);
    expect(isFhirId('')).toBe(false);
  });
});

describe('jsonStringArray', () => {
  it('is exactly JSON.stringify for any array of strings (quotes, backslashes, controls, lone surrogates)', () => {
    for (const a of [[], [''], ['a"b'], ['a\\b'], ['\u0001'], ['\ud800'], ['😀', 'x'], ['a', 'b', 'c']])
      expect(jsonStringArray(a)).toBe(JSON.stringify(a));
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' })), (a) => jsonStringArray(a) === JSON.stringify(a)),
      { numRuns: 2000 },
    );
  });
});
