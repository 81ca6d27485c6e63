import type { Bundle } from 'fhir/r4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringifyBundle } from '../../../src/fhir/serialize.js';
import { markShared } from '../../../src/fhir/shared.js';

const share = <T>(v: T): T => (v && typeof v === 'object' ? markShared(v) : v);

describe('stringifyBundle', () => {
  it('writes exactly what JSON.stringify writes, for any entries, shared or not', () => {
    const entry = fc.record(
      { fullUrl: fc.string(), resource: fc.oneof(fc.jsonValue(), fc.constant(undefined)), extra: fc.oneof(fc.jsonValue(), fc.constant(undefined)) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(entry, fc.jsonValue(), fc.constant(undefined))), fc.array(fc.boolean()), fc.dictionary(fc.string(), fc.jsonValue()), (list, shared, top) => {
        const entries = list.map((e, i) => (shared[i] && e && typeof e === 'object' && 'resource' in e ? { ...e, resource: share(e.resource) } : e));
        const bundle = { ...top, resourceType: 'Bundle', type: 'message', entry: entries, timestamp: undefined } as unknown as Bundle;
        // Twice: the second time shared resources come from the cache.
        expect(stringifyBundle(bundle)).toBe(JSON.stringify(bundle));
        expect(stringifyBundle(bundle)).toBe(JSON.stringify(bundle));
      }),
      { numRuns: 500 },
    );
  });

  it('reuses the text of a shared resource (it cannot change) but never of a mutable one', () => {
    const shared = share({ resourceType: 'Practitioner', id: 'p1', name: [{ family: 'Smith' }] });
    const mutable = { resourceType: 'Patient', id: 'x', active: true };
    const bundle = { resourceType: 'Bundle', type: 'message', entry: [{ resource: shared }, { resource: mutable }] } as unknown as Bundle;
    expect(stringifyBundle(bundle)).toBe(JSON.stringify(bundle));
    mutable.active = false;
    expect(stringifyBundle(bundle)).toBe(JSON.stringify(bundle));
    expect(stringifyBundle({ resourceType: 'Bundle', type: 'collection' })).toBe('{"resourceType":"Bundle","type":"collection"}');
  });
});
