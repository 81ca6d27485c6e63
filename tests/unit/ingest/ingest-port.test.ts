import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Outbox } from '../../../src/delivery/outbox.js';
import type { Inbox } from '../../../src/ingest/inbox.js';
import { GatewayIngestPort } from '../../../src/ingest/ingest-port.js';
import type { Pipeline } from '../../../src/ingest/pipeline.js';
import type { MessageStore } from '../../../src/store/types.js';

// Fault injection: the port's dependencies fail in the two ways that matter (a driver error with a
// code, and a bug), and the 503 that follows must leave a log line either way.

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const SECRET = 'DOE^JANE MRN123456';

function port(fail: Error, log: pino.Logger) {
  const store = { acceptInbound: async () => Promise.reject(fail) } as unknown as MessageStore;
  const inbox = { receiveHl7: async () => Promise.reject(fail), write: async () => Promise.reject(fail) } as unknown as Inbox;
  return new GatewayIngestPort(store, inbox, {} as Pipeline, {} as Outbox, undefined, log);
}

const driverError = () => Object.assign(new Error(`SQLITE_BUSY near ${SECRET}`), { code: 'SQLITE_BUSY' });

describe('GatewayIngestPort failures', () => {
  it('a store that fails under HL7 ingest: 503, logged at warn with the error code, no message text', async () => {
    const { log, lines } = capture();
    const result = await port(driverError(), log).receiveHl7(Buffer.from('MSH|^~\\&|'), { sourceName: 'http-in' } as never);
    expect(result).toMatchObject({ outcome: 'unavailable', httpStatus: 503 });
    expect(lines).toEqual([expect.objectContaining({ level: 40, step: 'hl7', errorName: 'Error', errorCode: 'SQLITE_BUSY' })]);
    expect(JSON.stringify(lines)).not.toContain('MRN123456');
  });

  it('a bug under FHIR ingest (a TypeError) is still a 503 to the client, but logged at error', async () => {
    const { log, lines } = capture();
    const result = await port(new TypeError(`cannot read ${SECRET}`), log).receiveFhir({ resourceType: 'Patient' }, {
      sourceName: 'http-in',
    } as never);
    expect(result).toMatchObject({ outcome: 'unavailable', httpStatus: 503 });
    expect(lines).toEqual([expect.objectContaining({ level: 50, step: 'fhir', errorName: 'TypeError' })]);
    expect(JSON.stringify(lines)).not.toContain('MRN123456');
  });

  it('a validation thread that dies: 503 (nothing stored, the client sends again), logged, the store never asked', async () => {
    const { log, lines } = capture();
    let stored = false;
    const inbox = { write: async () => ((stored = true), Promise.reject(new Error('unreachable'))) } as unknown as Inbox;
    const validation = { validate: async () => Promise.reject(new Error('FHIR validation thread exited (1)')) };
    const ingest = new GatewayIngestPort({} as MessageStore, inbox, {} as Pipeline, {} as Outbox, undefined, log, validation);
    const result = await ingest.receiveFhir({ resourceType: 'Patient', name: [{ family: SECRET }] }, { sourceName: 'http-in' } as never);
    expect(result).toMatchObject({ outcome: 'unavailable', httpStatus: 503 });
    expect(stored).toBe(false);
    expect(lines).toEqual([expect.objectContaining({ level: 50, step: 'fhir-validation' })]);
    expect(JSON.stringify(lines)).not.toContain('MRN123456');
  });
});
