import { describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../../src/config/interpolate.js';
import { applyEnvOverrides } from '../../../src/config/overrides.js';

describe('interpolateEnv', () => {
  const env = { HOST: 'db.local', EMPTY: '', PORT: '5432' };

  it.each([
    ['plain', 'no refs', 'no refs'],
    ['whole value', '${HOST}', 'db.local'],
    ['several in one string', 'postgres://${HOST}:${PORT}/x', 'postgres://db.local:5432/x'],
    ['default when unset', '${NOPE:-fallback}', 'fallback'],
    ['default when empty', '${EMPTY:-fallback}', 'fallback'],
    ['set wins over default', '${HOST:-other}', 'db.local'],
    ['empty default', '${NOPE:-}', ''],
    ['default with colons and slashes', '${NOPE:-redis://h:1/0}', 'redis://h:1/0'],
    ['set but empty, no default', '${EMPTY}', ''],
    ['escaped', '$${HOST}', '${HOST}'],
    ['lone dollar', 'cost $5', 'cost $5'],
  ])('%s', (_name, input, expected) => {
    const { value, issues } = interpolateEnv({ a: input }, env);
    expect(issues).toEqual([]);
    expect(value).toEqual({ a: expected });
  });

  it('walks lists and mappings, leaving keys and non-strings alone', () => {
    const doc = { '${HOST}': 1, list: [{ x: '${PORT}' }, true, null, 3] };
    expect(interpolateEnv(doc, env).value).toEqual({ '${HOST}': 1, list: [{ x: '5432' }, true, null, 3] });
  });

  it('names key and variable for each missing variable', () => {
    const { issues } = interpolateEnv({ a: { b: ['${ONE}', 'x ${TWO} ${HOST}'] } }, env);
    expect(issues).toEqual([
      { key: 'a.b[0]', problem: expect.stringMatching(/^environment variable ONE is not set/) },
      { key: 'a.b[1]', problem: expect.stringMatching(/^environment variable TWO is not set/) },
    ]);
  });

  it.each(['${}', '${1ABC}', '${A B}', '${HOST', 'a ${ b'])('reports a malformed reference: %s', (input) => {
    const { issues } = interpolateEnv({ k: input }, env);
    expect(issues).toEqual([{ key: 'k', problem: expect.stringMatching(/^malformed/) }]);
  });
});

describe('applyEnvOverrides', () => {
  it('sets nested keys, creating sections, and reports what it set', () => {
    const doc: Record<string, unknown> = { server: { logLevel: 'info' } };
    const applied = applyEnvOverrides(doc, { CAREBRIDGE_HTTP_PORT: '9000', CAREBRIDGE_LOG_LEVEL: 'debug', CAREBRIDGE_REDIS_URL: '' });
    expect(doc).toEqual({ server: { logLevel: 'debug', http: { port: '9000' } } });
    expect([...applied]).toEqual([
      ['server.http.port', 'CAREBRIDGE_HTTP_PORT'],
      ['server.logLevel', 'CAREBRIDGE_LOG_LEVEL'],
    ]);
  });

  it('leaves a malformed section for validation to report', () => {
    const doc: Record<string, unknown> = { server: 'oops' };
    expect(applyEnvOverrides(doc, { CAREBRIDGE_HTTP_PORT: '9000' }).size).toBe(0);
    expect(doc).toEqual({ server: 'oops' });
  });
});
