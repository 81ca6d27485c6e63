import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/api-error.js';
import { mapError } from '../../../src/api/error-handler.js';
import { CarePlanError } from '../../../src/careplan/errors.js';
import { ConfigError } from '../../../src/config/errors.js';
import { CodedError, ERROR_CODE_SYSTEM } from '../../../src/errors/catalogue.js';
import { NotFoundError, StoreInputError } from '../../../src/store/errors.js';
import { PHI_PATHS } from '../../../src/observability/log.js';
import { adt, auth, harness, type Harness, KEYS, seedMessage } from './fixtures.js';

/** A logger like the gateway's (same redaction), writing JSON lines into an array. */
function capturingLogger(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const log = pino({ level, redact: { paths: PHI_PATHS, censor: '[redacted]' } }, stream);
  return { log, lines };
}

const PHI = 'DOE^JANE MRN123456 1970-01-01';

describe('error handler', () => {
  let h: Harness;
  let lines: Array<Record<string, unknown>>;
  beforeAll(async () => {
    const captured = capturingLogger('info');
    lines = captured.lines;
    h = await harness({ log: captured.log, storeBackedIngest: false });
  });
  afterAll(() => h.close());

  it('answers an unexpected error with 500 OperationOutcome: no stack, no message, the request id', async () => {
    h.ingest.fail = new Error(`boom while handling ${PHI}`);
    try {
      const res = await h.app.inject({
        method: 'POST',
        url: '/hl7/v2',
        headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' },
        payload: adt('C1'),
      });
      expect(res.statusCode).toBe(500);
      const body = res.json();
      expect(body).toEqual({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'exception',
            details: { coding: [{ system: ERROR_CODE_SYSTEM, code: 'CB_INTERNAL' }] },
            diagnostics: expect.stringMatching(/^internal error \(request .+\)$/),
          },
        ],
      });
      expect(res.body).not.toContain('MRN123456');
      expect(res.body).not.toMatch(/at .*\.ts:\d+/);
    } finally {
      h.ingest.fail = undefined;
    }
  });

  it('logs ids only at info level and above: no message text, no payload, no query string', async () => {
    lines.length = 0;
    h.ingest.fail = new Error(`boom while handling ${PHI}`);
    try {
      await h.app.inject({
        method: 'POST',
        url: '/hl7/v2',
        headers: { ...auth(KEYS.aco), 'content-type': 'application/hl7-v2' },
        payload: adt('C1'),
      });
    } finally {
      h.ingest.fail = undefined;
    }
    await h.app.inject({ method: 'GET', url: '/api/messages?identifier=urn:mrn|MRN123456', headers: auth(KEYS.admin) });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('MRN123456');
    expect(text).not.toContain('DOE');
    expect(text).not.toContain(KEYS.aco);
    const failure = lines.find((l) => l.msg === 'request failed');
    expect(failure).toMatchObject({
      level: 50,
      route: '/hl7/v2',
      method: 'POST',
      statusCode: 500,
      errorName: 'Error',
      reqId: expect.any(String),
    });
    expect(lines.filter((l) => l.msg === 'request').map((l) => [l.route, l.statusCode])).toEqual([
      ['/hl7/v2', 500],
      ['/api/messages', 200],
    ]);
  });

  it('answers the same 404 shape for unknown routes without echoing the URL', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/patients?ssn=123-45-6789' });
    expect(res.statusCode).toBe(404);
    expect(res.json().resourceType).toBe('OperationOutcome');
    expect(res.body).not.toContain('123-45-6789');
  });

  it('turns a thrown NotFoundError from the store into 404', async () => {
    const { id } = await seedMessage(h.store, { controlId: 'E1', partnerId: 'acme-aco' });
    const original = h.ingest.replay.bind(h.ingest);
    h.ingest.replay = async () => {
      throw new NotFoundError(`message ${id} not found`);
    };
    try {
      const res = await h.app.inject({ method: 'POST', url: `/api/messages/${id}/replay`, headers: auth(KEYS.admin) });
      expect(res.statusCode).toBe(404);
    } finally {
      h.ingest.replay = original;
    }
  });
});

describe('mapError', () => {
  it.each([
    [new CodedError('CB_DELIVERY_NOT_DEAD', 'already'), 'CB_DELIVERY_NOT_DEAD', 409, 'conflict', 'already'],
    [new ApiError(409, 'conflict', 'already'), 'CB_CONFLICT', 409, 'conflict', 'already'],
    [new CarePlanError('unprocessable', 'no ACO', ['a', 'b']), 'CB_CAREPLAN_UNPROCESSABLE', 422, 'processing', 'no ACO: a; b'],
    [
      ConfigError.single('gateway.yaml', 'store.url', 'is required'),
      'CB_CONFIG_INVALID',
      400,
      'invalid',
      'gateway.yaml: store.url: is required',
    ],
    [new NotFoundError('message 123 not found'), 'CB_NOT_FOUND', 404, 'not-found', 'not found'],
    [new StoreInputError('invalid cursor'), 'CB_INPUT_INVALID', 400, 'invalid', 'invalid cursor'],
    [
      Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }),
      'CB_BODY_TOO_LARGE',
      413,
      'too-long',
      'request body is larger than the limit of 99 bytes',
    ],
    [
      Object.assign(new Error('Unexpected token in JSON at "SECRET"'), { statusCode: 400 }),
      'CB_REQUEST_INVALID',
      400,
      'invalid',
      'bad request',
    ],
    [new SyntaxError('Unexpected token S in "SECRET"'), 'CB_BODY_NOT_JSON', 400, 'invalid', 'request body is not valid JSON'],
    [Object.assign(new Error('secret'), { statusCode: 418 }), 'CB_REQUEST_REFUSED', 418, 'invalid', 'request refused'],
    [new TypeError('cannot read SECRET'), 'CB_INTERNAL', 500, 'exception', 'internal error'],
    ['a string', 'CB_INTERNAL', 500, 'exception', 'internal error'],
  ])('%s -> %s', (error, errorCode, status, code, text) => {
    expect(mapError(error, 99)).toEqual({ errorCode, status, code, text });
  });
});
