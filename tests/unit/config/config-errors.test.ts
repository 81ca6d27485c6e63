import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { baseConfig, DUMMY_CERT_PEM, sftpSource, tempConfigDir, type TempConfigDir } from './config-fixture.js';

type Doc = Record<string, any>;

interface ErrorCase {
  name: string;
  /** Changes the valid base config; may return a raw YAML string instead. */
  mutate: (doc: Doc, tmp: TempConfigDir) => Doc | string | void;
  env?: Record<string, string>;
  key: string;
  problem: RegExp;
}

const cases: ErrorCase[] = [
  // unknown keys and wrong shapes
  { name: 'unknown top-level key', mutate: (d) => void (d.serverr = {}), key: 'serverr', problem: /^unknown key$/ },
  { name: 'unknown nested key', mutate: (d) => void (d.sources[0].prot = 1), key: 'sources[0].prot', problem: /^unknown key$/ },
  { name: 'section of the wrong type', mutate: (d) => void (d.sources = { id: 'x' }), key: 'sources', problem: /^must be a list$/ },
  { name: 'missing required key', mutate: (d) => void delete d.sources[0].port, key: 'sources[0].port', problem: /^is required$/ },
  {
    name: 'port not a number',
    mutate: (d) => void (d.server.http.port = 'eighty'),
    key: 'server.http.port',
    problem: /must be an integer/,
  },
  { name: 'port out of range', mutate: (d) => void (d.sources[0].port = 70000), key: 'sources[0].port', problem: /must be at most 65535/ },
  {
    name: 'unknown source type',
    mutate: (d) => void (d.sources[0].type = 'ftp'),
    key: 'sources[0].type',
    problem: /must be one of mllp, http, sftp/,
  },
  {
    name: 'missing source type',
    mutate: (d) => void delete d.sources[1].type,
    key: 'sources[1].type',
    problem: /^is required; must be one of mllp, http, sftp/,
  },
  {
    name: 'mllp frame timeout of 0',
    mutate: (d) => void (d.sources[0].frameTimeoutMs = 0),
    key: 'sources[0].frameTimeoutMs',
    problem: /must be at least 100/,
  },
  {
    name: 'mllp frame timeout too long',
    mutate: (d) => void (d.sources[0].frameTimeoutMs = 3_600_000),
    key: 'sources[0].frameTimeoutMs',
    problem: /must be at most 600000/,
  },
  {
    name: 'mllp per-address limit negative',
    mutate: (d) => void (d.sources[0].maxConnectionsPerAddress = -1),
    key: 'sources[0].maxConnectionsPerAddress',
    problem: /must be at least 0/,
  },
  { name: 'bad id', mutate: (d) => void (d.routes[0].id = 'Bad Id'), key: 'routes[0].id', problem: /must be an id/ },
  {
    name: 'bad log level',
    mutate: (d) => void (d.server.logLevel = 'verbose'),
    key: 'server.logLevel',
    problem: /must be one of fatal, error, warn, info/,
  },
  {
    name: 'bad store url',
    mutate: (d) => void (d.store = { url: 'mysql://db/x' }),
    key: 'store.url',
    problem: /must be sqlite:<path> or a postgres:\/\/ URL/,
  },
  { name: 'bad redis url', mutate: (d) => void (d.redis = { url: 'http://127.0.0.1:6379' }), key: 'redis.url', problem: /redis:\/\// },
  {
    name: 'bad partner kind',
    mutate: (d) => void (d.partners.acme.kind = 'payer'),
    key: 'partners.acme.kind',
    problem: /must be one of aco, cp, hospital, vendor/,
  },
  {
    name: 'bad partner id',
    mutate: (d) => void (d.partners['Big ACO'] = { name: 'x', kind: 'aco' }),
    key: 'partners.Big ACO',
    problem: /is not a valid key/,
  },
  {
    name: 'bad sender format',
    mutate: (d) => void (d.partners.acme.senders = ['EPICADT']),
    key: 'partners.acme.senders[0]',
    problem: /APP\^FACILITY/,
  },
  {
    name: 'bad event code',
    mutate: (d) => void (d.routes[0].match.events = ['a01']),
    key: 'routes[0].match.events[0]',
    problem: /trigger event code/,
  },
  {
    name: 'route with to and toAttributed',
    mutate: (d) => void (d.routes[0].toAttributed = 'cp'),
    key: 'routes[0].to',
    problem: /exactly one of to .* or toAttributed/,
  },
  {
    name: 'backoff max below base',
    mutate: (d) => void (d.destinations[0].backoff = { baseMs: 5000, maxMs: 1000 }),
    key: 'destinations[0].backoff',
    problem: /maxMs must be at least baseMs/,
  },
  {
    name: 'mllp destination without port',
    mutate: (d) => void d.destinations.push({ id: 'fwd', type: 'mllp', host: '127.0.0.1' }),
    key: 'destinations[1].port',
    problem: /^is required$/,
  },
  {
    name: 'roster import chunk time not positive',
    mutate: (d) => void (d.roster = { importChunkMs: 0 }),
    key: 'roster.importChunkMs',
    problem: /^must be at least 1$/,
  },
  {
    name: 'fhir destination bad url',
    mutate: (d) => void d.destinations.push({ id: 'f', type: 'fhir', baseUrl: 'ftp://x' }),
    key: 'destinations[1].baseUrl',
    problem: /http\(s\) URL/,
  },

  // secrets
  {
    name: 'webhook without secret',
    mutate: (d) => void delete d.destinations[0].secret,
    key: 'destinations[0].secret',
    problem: /is required/,
  },
  {
    name: 'webhook with empty secret',
    mutate: (d) => void (d.destinations[0].secret = ''),
    key: 'destinations[0].secret',
    problem: /must not be empty/,
  },
  {
    name: 'api key hash format',
    mutate: (d) => void (d.apiKeys[0].hash = 'plain-text-key'),
    key: 'apiKeys[0].hash',
    problem: /scrypt:<salt-base64>:<hash-base64>/,
  },
  {
    name: 'api key short scrypt salt',
    mutate: (d) => void (d.apiKeys[0].hash = 'scrypt:AAAA:' + 'A'.repeat(44)),
    key: 'apiKeys[0].hash',
    problem: /must be "scrypt:/,
  },

  // cross-references and uniqueness
  {
    name: 'duplicate source id',
    mutate: (d) => void (d.sources[1].id = 'mllp-in'),
    key: 'sources[1].id',
    problem: /duplicate id 'mllp-in' \(also sources\[0\]\)/,
  },
  {
    name: 'duplicate destination id',
    mutate: (d) => void d.destinations.push({ ...d.destinations[0] }),
    key: 'destinations[1].id',
    problem: /duplicate id 'hook'/,
  },
  {
    name: 'bad route message type',
    mutate: (d) => void (d.routes[0].match.messageTypes = ['oru']),
    key: 'routes[0].match.messageTypes[0]',
    problem: /message type like ADT or ORU/,
  },
  {
    name: 'bad route payload',
    mutate: (d) => void (d.routes[0].payload = 'json'),
    key: 'routes[0].payload',
    problem: /must be fhir or raw/,
  },
  {
    name: 'raw payload to a FHIR destination',
    mutate: (d) => {
      d.destinations.push({ id: 'f', type: 'fhir', baseUrl: 'https://fhir.example.org' });
      d.routes[0].to = ['hook', 'f'];
      d.routes[0].payload = 'raw';
    },
    key: 'routes[0].to[1]',
    problem: /payload raw cannot go to fhir destination 'f'/,
  },
  {
    name: 'empty source accept policy',
    mutate: (d) => void (d.sources[0].accept = {}),
    key: 'sources[0].accept',
    problem: /give types, events or both/,
  },
  {
    name: 'bad source accept type',
    mutate: (d) => void (d.sources[0].accept = { types: ['adt'] }),
    key: 'sources[0].accept.types[0]',
    problem: /message type like ADT/,
  },
  {
    name: 'route to unknown destination',
    mutate: (d) => void (d.routes[0].to = ['hook', 'nowhere']),
    key: 'routes[0].to[1]',
    problem: /unknown destination 'nowhere'/,
  },
  {
    name: 'route from unknown source',
    mutate: (d) => void (d.routes[0].match.sources = ['ghost']),
    key: 'routes[0].match.sources[0]',
    problem: /unknown source 'ghost'/,
  },
  {
    name: 'attributed route without such partners',
    mutate: (d) => {
      d.routes.push({ id: 'to-cp', toAttributed: 'cp' });
      delete d.partners['cp-one'];
    },
    key: 'routes[1].toAttributed',
    problem: /no partner of kind 'cp'/,
  },
  {
    name: 'source with unknown partner',
    mutate: (d) => void (d.sources[0].partner = 'ghost'),
    key: 'sources[0].partner',
    problem: /unknown partner 'ghost'/,
  },
  {
    name: 'api key with unknown partner',
    mutate: (d) => void (d.apiKeys[0].partners = ['ghost']),
    key: 'apiKeys[0].partners[0]',
    problem: /unknown partner 'ghost'/,
  },
  {
    name: 'api key admin mixed with partners',
    mutate: (d) => void (d.apiKeys[0].partners = ['*', 'acme']),
    key: 'apiKeys[0].partners',
    problem: /cannot be combined/,
  },
  {
    name: 'partner-role key with "*"',
    mutate: (d) => void (d.apiKeys[0].role = 'partner'),
    key: 'apiKeys[0].role',
    problem: /partner key lists partner ids/,
  },
  {
    name: 'operator key scoped to partners',
    mutate: (d) => void Object.assign(d.apiKeys[0], { partners: ['acme'], role: 'operator' }),
    key: 'apiKeys[0].role',
    problem: /an operator key has partners \["\*"\]/,
  },
  {
    name: 'unknown api key role',
    mutate: (d) => void (d.apiKeys[0].role = 'root'),
    key: 'apiKeys[0].role',
    problem: /admin|operator|partner/,
  },
  {
    name: 'partner destination unknown',
    mutate: (d) => void (d.partners['cp-one'].destinations.careplan = 'nope'),
    key: 'partners.cp-one.destinations.careplan',
    problem: /unknown destination 'nope'/,
  },
  {
    name: 'sender claimed by two partners',
    mutate: (d) => void (d.partners['cp-one'].senders = ['EPICADT^MGH']),
    key: 'partners.cp-one.senders[0]',
    problem: /already identifies partner 'acme'/,
  },
  {
    name: 'mllp source of a partner without senders',
    mutate: (d) => void (d.partners.acme.senders = []),
    key: 'sources[0].partner',
    problem: /partner 'acme' declares no senders: every message on this source would be rejected/,
  },
  {
    name: 'two mllp sources on one port',
    mutate: (d) => void d.sources.push({ id: 'mllp-2', type: 'mllp', port: 12575 }),
    key: 'sources[2].port',
    problem: /port 12575 is already used by sources\[0\]/,
  },
  {
    name: 'mllp source on the http port',
    mutate: (d) => void (d.sources[0].port = 18080),
    key: 'sources[0].port',
    problem: /already used by server\.http\.port/,
  },
  {
    name: 'two http sources',
    mutate: (d) => void d.sources.push({ id: 'web-2', type: 'http' }),
    key: 'sources[2].type',
    problem: /only one http source/,
  },
  {
    name: 'missing mapping overlay',
    mutate: (d) => void (d.partners.acme.profile = 'no-such-partner'),
    key: 'partners.acme.profile',
    problem: /no mapping overlay .*no-such-partner/,
  },

  // files
  {
    name: 'TLS cert missing',
    mutate: (d, t) => {
      t.write('tls/server.key', '-----BEGIN PRIVATE KEY-----\n');
      d.server.http.tls = { key: 'tls/server.key', cert: 'tls/missing.crt' };
    },
    key: 'server.http.tls.cert',
    problem: /tls\/missing\.crt does not exist/,
  },
  {
    name: 'TLS key and cert swapped',
    mutate: (d, t) => {
      t.write('tls/server.crt', DUMMY_CERT_PEM);
      d.sources[0].tls = { key: 'tls/server.crt', cert: 'tls/server.crt' };
    },
    key: 'sources[0].tls.key',
    problem: /is not a PEM private key/,
  },
  {
    name: 'mutual TLS without CA',
    mutate: (d) => void (d.sources[0].tls = { key: 'k', cert: 'c', requestClientCert: true }),
    key: 'sources[0].tls.ca',
    problem: /is required when requestClientCert is true/,
  },
  {
    name: 'ssh key file missing',
    mutate: (d) => void d.sources.push({ ...sftpSource(), privateKeyEnv: undefined, privateKey: 'keys/none' }),
    key: 'sources[2].privateKey',
    problem: /keys\/none does not exist/,
  },

  // sftp shapes
  {
    name: 'sftp without key',
    mutate: (d) => void d.sources.push({ ...sftpSource(), privateKeyEnv: undefined }),
    key: 'sources[2].privateKey',
    problem: /exactly one of privateKey .* or privateKeyEnv/,
  },
  {
    name: 'sftp key variable not set',
    mutate: (d) => void d.sources.push(sftpSource()),
    key: 'sources[2].privateKeyEnv',
    problem: /environment variable ACME_SFTP_KEY is not set/,
  },
  {
    name: 'sftp bad host key',
    mutate: (d) => void d.sources.push({ ...sftpSource(), hostKeySha256: 'MD5:aa:bb' }),
    env: { ACME_SFTP_KEY: 'k' },
    key: 'sources[2].hostKeySha256',
    problem: /SHA256 host key fingerprint/,
  },
  {
    name: 'sftp poll interval and cron',
    mutate: (d) => void d.sources.push({ ...sftpSource(), poll: { intervalSeconds: 60, cron: '0 6 * * *' } }),
    env: { ACME_SFTP_KEY: 'k' },
    key: 'sources[2].poll',
    problem: /exactly one of intervalSeconds or cron/,
  },
  {
    name: 'sftp bad cron',
    mutate: (d) => void d.sources.push({ ...sftpSource(), poll: { cron: 'every morning' } }),
    env: { ACME_SFTP_KEY: 'k' },
    key: 'sources[2].poll.cron',
    problem: /cron expression with 5 fields/,
  },
  {
    name: 'sftp bad expected time',
    mutate: (d) => void d.sources.push({ ...sftpSource(), expectedDaily: { by: '9am', timeZone: 'America/New_York' } }),
    env: { ACME_SFTP_KEY: 'k' },
    key: 'sources[2].expectedDaily.by',
    problem: /HH:MM/,
  },
  {
    name: 'sftp bad time zone',
    mutate: (d) => void d.sources.push({ ...sftpSource(), expectedDaily: { by: '09:00', timeZone: 'Boston' } }),
    env: { ACME_SFTP_KEY: 'k' },
    key: 'sources[2].expectedDaily.timeZone',
    problem: /IANA time zone/,
  },
  {
    name: 'sftp bad format',
    mutate: (d) => void d.sources.push({ ...sftpSource(), format: 'pdf' }),
    env: { ACME_SFTP_KEY: 'k' },
    key: 'sources[2].format',
    problem: /must be one of member-csv, member-fixed-width, x12-834/,
  },

  // environment
  {
    name: 'missing env variable',
    mutate: (d) => void (d.destinations[0].secret = '${HOOK_SECRET}'),
    key: 'destinations[0].secret',
    problem: /environment variable HOOK_SECRET is not set/,
  },
  {
    name: 'malformed reference',
    mutate: (d) => void (d.destinations[0].url = 'http://${HOST'),
    key: 'destinations[0].url',
    problem: /malformed \$\{\.\.\.\} reference/,
  },
  {
    name: 'bad override',
    mutate: () => undefined,
    env: { CAREBRIDGE_HTTP_PORT: 'http' },
    key: 'server.http.port (from CAREBRIDGE_HTTP_PORT)',
    problem: /must be an integer/,
  },
  {
    name: 'override makes a port conflict',
    mutate: () => undefined,
    env: { CAREBRIDGE_HTTP_PORT: '12575' },
    key: 'sources[0].port',
    problem: /already used by server\.http\.port/,
  },

  // the file itself
  {
    name: 'YAML syntax error',
    mutate: () => 'server:\n  http: {port: 1\nsources: [\n',
    key: 'line 3, column 1',
    problem: /^not valid YAML/,
  },
  {
    name: 'duplicate YAML key',
    mutate: () => 'server: {}\nserver: {}\n',
    key: 'line 2, column 1',
    problem: /not valid YAML: Map keys must be unique/,
  },
  { name: 'top level is a list', mutate: () => '- a\n- b\n', key: '', problem: /must be a YAML mapping/ },
  { name: 'empty file', mutate: () => '# nothing here\n', key: '', problem: /the file is empty/ },
];

describe('config errors name the file, the key and the problem', () => {
  let tmp: TempConfigDir;
  beforeAll(() => {
    tmp = tempConfigDir();
  });
  afterAll(() => tmp.cleanup());

  it.each(cases.map((c, i) => ({ ...c, i })))('$name', ({ mutate, env, key, problem, i }) => {
    const doc = baseConfig();
    const mutated = mutate(doc, tmp);
    const file = tmp.config(typeof mutated === 'string' ? mutated : doc, `case-${i}.yaml`);
    let caught: unknown;
    try {
      loadConfig(file, env ?? {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    const prefix = key === '' ? `${file}: ` : `${file}: ${key}: `;
    const line = error.message.split('\n').find((l) => l.startsWith(prefix) && problem.test(l.slice(prefix.length)));
    expect(line, `no line "${prefix}<${problem.source}>" in:\n${error.message}`).toBeDefined();
    expect(error.file).toBe(file);
    expect(error.message).not.toMatch(/\n\s+at /);
  });

  it('reports every schema problem at once, one line each', () => {
    const doc = baseConfig();
    doc.sources[0].port = 'x';
    doc.server.logLevel = 'loud';
    const file = tmp.config(doc, 'many.yaml');
    expect(() => loadConfig(file, {})).toThrow(ConfigError);
    try {
      loadConfig(file, {});
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.key).sort()).toEqual(['server.logLevel', 'sources[0].port']);
      expect((err as Error).message.split('\n')).toHaveLength(2);
    }
  });

  it('names a missing file', () => {
    expect(() => loadConfig(`${tmp.dir}/nope.yaml`, {})).toThrow(`${tmp.dir}/nope.yaml: no such file`);
  });

  it('never puts a secret value in the message', () => {
    const secret = 'hunter2-super-secret';
    const doc = baseConfig();
    doc.destinations[0].url = '${HOOK_URL}';
    doc.apiKeys[0].hash = '${ADMIN_HASH}';
    doc.server.http.port = '${PORT}';
    const file = tmp.config(doc, 'secrets.yaml');
    const env = {
      HOOK_URL: `ftp://user:${secret}@host/`,
      ADMIN_HASH: secret,
      PORT: secret,
      CAREBRIDGE_STORE_URL: `mysql://root:${secret}@db/x`,
      CAREBRIDGE_REDIS_URL: `memcache://:${secret}@r`,
    };
    let message = '';
    try {
      loadConfig(file, env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n').length).toBeGreaterThanOrEqual(5);
    expect(message).not.toContain(secret);
  });

  it('hides the offending line of a YAML syntax error (it may hold a secret)', () => {
    const file = tmp.config('redis:\n  url: "redis://:hunter2@x\n', 'yaml-secret.yaml');
    expect(() => loadConfig(file, {})).toThrow(ConfigError);
    try {
      loadConfig(file, {});
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
