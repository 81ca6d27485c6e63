import { copyFileSync, readFileSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfigFile, loadConfig, verifyApiKey } from '../../../src/config/index.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { baseConfig, DUMMY_CERT_PEM, DUMMY_KEY_PEM, SHA256_OF_DEMO, tempConfigDir, type TempConfigDir } from './config-fixture.js';

const root = packageRoot();

describe('config/demo.yaml', () => {
  it('is the default and loads with embedded defaults', () => {
    expect(defaultConfigFile()).toBe(join(root, 'config', 'demo.yaml'));
    const config = loadConfig(undefined, {});
    expect(config.configFile).toBe(join(root, 'config', 'demo.yaml'));
    // Embedded defaults: SQLite under ./data of the working directory, private Redis.
    expect(config.dataDir).toBe(resolve(process.cwd(), 'data'));
    expect(config.store.url).toBe(`sqlite:${resolve(process.cwd(), 'data', 'carebridge.db')}`);
    expect(config.redis.url).toBeUndefined();
    expect(config.mappings.dir).toBe(join(root, 'mappings'));
    expect(config.server.http).toMatchObject({ host: '127.0.0.1', port: 8080 });

    const mllp = config.sources.find((s) => s.type === 'mllp');
    expect(mllp).toMatchObject({ id: 'demo-mllp', host: '127.0.0.1', port: 2575, partner: 'example-aco' });
    expect(config.sources.some((s) => s.type === 'http')).toBe(true);
    expect(config.partners['example-aco']).toMatchObject({ kind: 'aco', profile: 'example-aco' });
    // An ACO and two CPs; each CP's ADT goes to its own demo receiver, only for its attributed members.
    expect(config.partners['example-cp']).toMatchObject({ kind: 'cp', destinations: { adt: 'example-cp-receiver' } });
    expect(config.partners['riverside-cp']).toMatchObject({ kind: 'cp', destinations: { adt: 'riverside-cp-receiver' } });
    expect(config.destinations).toEqual([
      expect.objectContaining({
        id: 'example-cp-receiver',
        type: 'webhook',
        url: 'http://127.0.0.1:8080/demo/receivers/example-cp',
        secret: 'carebridge-demo-webhook-secret',
      }),
      expect.objectContaining({ id: 'riverside-cp-receiver', type: 'webhook', url: 'http://127.0.0.1:8080/demo/receivers/riverside-cp' }),
    ]);
    expect(config.routes).toEqual([expect.objectContaining({ id: 'adt-to-attributed-cp', toAttributed: 'cp' })]);
    expect(config.routes[0].match.events).toEqual(['A01', 'A02', 'A03', 'A04', 'A08']);
    // The roster: the ACO's member file from a local drop folder.
    expect(config.sources.find((s) => s.type === 'directory')).toMatchObject({ partner: 'example-aco', format: 'member-csv' });
  });

  it('documents the plain demo admin, operator and care-team keys, and the hashes match them', () => {
    const config = loadConfig(undefined, {});
    expect(config.apiKeys.map((k) => [k.id, k.partners, k.role])).toEqual([
      ['demo-admin', ['*'], undefined],
      ['demo-operator', ['*'], 'operator'],
      ['demo-example-cp', ['example-cp'], 'partner'],
    ]);
    expect(verifyApiKey('carebridge-demo-admin-key', config.apiKeys[0].hash)).toBe(true);
    expect(verifyApiKey('carebridge-demo-operator-key', config.apiKeys[1].hash)).toBe(true);
    expect(verifyApiKey('carebridge-demo-cp-key', config.apiKeys[2].hash)).toBe(true);
  });

  it('keeps the webhook on the HTTP port when CAREBRIDGE_HTTP_PORT moves it', () => {
    const config = loadConfig(undefined, { CAREBRIDGE_HTTP_PORT: '18080', CAREBRIDGE_MLLP_PORT: '12575' });
    expect(config.server.http.port).toBe(18080);
    expect(config.sources.find((s) => s.type === 'mllp')?.port).toBe(12575);
    expect(config.destinations[0]).toMatchObject({ url: 'http://127.0.0.1:18080/demo/receivers/example-cp' });
  });
});

describe('config/example.yaml', () => {
  let tmp: TempConfigDir;
  beforeEach(() => {
    tmp = tempConfigDir();
  });
  afterEach(() => tmp.cleanup());

  /** The example names TLS files beside itself and ../mappings; give it a home where those exist. */
  function placeExample(): string {
    const file = join(tmp.dir, 'etc', 'example.yaml');
    tmp.write('etc/.keep', '');
    copyFileSync(join(root, 'config', 'example.yaml'), file);
    symlinkSync(join(root, 'mappings'), join(tmp.dir, 'mappings'));
    for (const name of ['server.key', 'client.key']) tmp.write(`etc/tls/${name}`, DUMMY_KEY_PEM);
    for (const name of ['server.crt', 'client.crt', 'clients-ca.crt', 'partners-ca.crt']) tmp.write(`etc/tls/${name}`, DUMMY_CERT_PEM);
    return file;
  }

  const exampleEnv = {
    OPS_ADMIN_KEY_HASH: SHA256_OF_DEMO,
    CP_WEBHOOK_SECRET: 'whsec-from-env',
    ACO_FHIR_TOKEN: 'token-from-env',
    ACO_SFTP_KEY: 'key',
    CP_SFTP_KEY: 'key',
  };

  it('loads, with every section filled', () => {
    const file = placeExample();
    const config = loadConfig(file, exampleEnv);
    const etc = join(tmp.dir, 'etc');
    expect(config.server.http.tls).toEqual({
      key: join(etc, 'tls/server.key'),
      cert: join(etc, 'tls/server.crt'),
      ca: join(etc, 'tls/clients-ca.crt'),
    });
    expect(config.dataDir).toBe(join(etc, 'data'));
    expect(config.store.url).toBe(`sqlite:${join(etc, 'data/carebridge.db')}`);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379/0');
    expect(config.mappings.dir).toBe(join(tmp.dir, 'mappings'));
    expect(Object.keys(config.partners)).toEqual(['example-aco', 'boston-cp']);
    expect(config.sources.map((s) => s.type)).toEqual(['mllp', 'http', 'sftp']);
    expect(config.destinations.map((d) => d.type)).toEqual(['webhook', 'fhir', 'fhir-messaging', 'mllp', 'sftp']);
    expect(config.destinations[0]).toMatchObject({ secret: 'whsec-from-env', maxAttempts: 20, backoff: { baseMs: 1000, maxMs: 900000 } });
    expect(config.destinations[1]).toMatchObject({ auth: { bearerToken: 'token-from-env' }, mode: 'conditional-update' });
    expect(config.routes[1]).toMatchObject({ toAttributed: 'cp', includeSensitive: false });
    expect(config.consent.sensitiveServices).toEqual([{ code: 'SUD', category: 'substance-use' }]);
    const sftp = config.sources[2];
    expect(sftp.type === 'sftp' && sftp.poll).toEqual({ cron: '0 6-10 * * 1-5', timeZone: 'America/New_York' });
  });

  it('documents every key with a comment', () => {
    const config = loadConfig(placeExample(), exampleEnv);
    const lines = readFileSync(join(root, 'config', 'example.yaml'), 'utf8').split('\n');
    const documented = (key: string) => lines.some((line) => new RegExp(`(^|[\\s{,-])${key}:`).test(line) && line.includes(' #'));
    // Every key of the loaded config (defaults included), except user-chosen ones (partner ids, header names).
    const keys = new Set<string>();
    const walk = (node: unknown, parent: string) => {
      if (Array.isArray(node)) return node.forEach((item) => walk(item, parent));
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        const userChosen = parent === 'partners' || parent === 'headers';
        if (!userChosen) keys.add(key);
        walk(value, userChosen ? `${parent}.*` : key);
      }
    };
    walk({ ...config, configFile: undefined }, '');
    keys.delete('configFile');
    // Keys set only in alternatives (commented out in the example) must be documented too.
    for (const key of ['privateKey', 'intervalSeconds']) keys.add(key);
    expect([...keys].filter((k) => !documented(k))).toEqual([]);
    expect(keys.size).toBeGreaterThan(80);
  });
});

describe('environment', () => {
  let tmp: TempConfigDir;
  beforeEach(() => {
    tmp = tempConfigDir();
  });
  afterEach(() => tmp.cleanup());

  it('interpolates ${VAR} and ${VAR:-default} in strings, and numbers from strings', () => {
    const doc = baseConfig();
    doc.destinations[0].secret = '${HOOK_SECRET}';
    doc.destinations[0].url = 'http://${HOOK_HOST:-127.0.0.1}:${HOOK_PORT:-9}/hook';
    doc.sources[0].port = '${MLLP_PORT:-2575}';
    doc.partners.acme.name = 'Cost $${NOT_A_VAR} stays';
    const config = loadConfig(tmp.config(doc), { HOOK_SECRET: 's3cret', HOOK_PORT: '9999', MLLP_PORT: '' });
    expect(config.destinations[0]).toMatchObject({ secret: 's3cret', url: 'http://127.0.0.1:9999/hook' });
    expect(config.sources[0].type === 'mllp' && config.sources[0].port).toBe(2575);
    expect(config.partners.acme.name).toBe('Cost ${NOT_A_VAR} stays');
  });

  it('applies CAREBRIDGE_* overrides over the file', () => {
    const doc = baseConfig();
    doc.store = { url: 'sqlite:./db/file.db' };
    doc.redis = { url: 'redis://file:6379' };
    doc.server.logLevel = 'warn';
    const config = loadConfig(tmp.config(doc), {
      CAREBRIDGE_STORE_URL: 'postgres://carebridge@127.0.0.1:5432/cb',
      CAREBRIDGE_REDIS_URL: 'redis://127.0.0.1:6390',
      CAREBRIDGE_HTTP_PORT: '9090',
      CAREBRIDGE_LOG_LEVEL: 'debug',
      CAREBRIDGE_DATA_DIR: '',
    });
    expect(config.store.url).toBe('postgres://carebridge@127.0.0.1:5432/cb');
    expect(config.redis.url).toBe('redis://127.0.0.1:6390');
    expect(config.server.http.port).toBe(9090);
    expect(config.server.logLevel).toBe('debug');
    // Empty override = unset: the default dataDir stands.
    expect(config.dataDir).toBe(resolve(process.cwd(), 'data'));
  });

  it('creates sections an override needs', () => {
    const config = loadConfig(tmp.config({ sources: [] }), { CAREBRIDGE_HTTP_PORT: '0', CAREBRIDGE_LOG_LEVEL: 'error' });
    expect(config.server).toMatchObject({ http: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
  });
});

describe('relative paths', () => {
  let tmp: TempConfigDir;
  beforeEach(() => {
    tmp = tempConfigDir();
  });
  afterEach(() => tmp.cleanup());

  it('resolve against the config file folder', () => {
    tmp.write('conf/tls/k.pem', DUMMY_KEY_PEM);
    tmp.write('conf/tls/c.pem', DUMMY_CERT_PEM);
    tmp.write('conf/keys/sftp', '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n');
    const doc = baseConfig();
    doc.dataDir = 'state';
    doc.store = { url: 'sqlite:../db/cb.db' };
    doc.mappings = { dir: resolve(root, 'mappings') };
    doc.sources[0].tls = { key: 'tls/k.pem', cert: './tls/c.pem' };
    doc.destinations.push({
      id: 'drop',
      type: 'sftp',
      host: '127.0.0.1',
      username: 'u',
      privateKey: 'keys/sftp',
      hostKeySha256: 'ab'.repeat(32),
      remoteDir: 'in',
    });
    const conf = join(tmp.dir, 'conf');
    const config = loadConfig(tmp.config(doc, 'conf/gateway.yaml'), {});
    expect(config.dataDir).toBe(join(conf, 'state'));
    expect(config.store.url).toBe(`sqlite:${join(tmp.dir, 'db', 'cb.db')}`);
    expect(config.sources[0]).toMatchObject({
      tls: { key: join(conf, 'tls/k.pem'), cert: join(conf, 'tls/c.pem'), requestClientCert: false },
    });
    const drop = config.destinations[1];
    expect(drop).toMatchObject({ privateKey: join(conf, 'keys/sftp'), remoteDir: 'in', port: 22 });
    // Host key fingerprints are normalized to the ssh-keygen form.
    expect(drop.type === 'sftp' && drop.hostKeySha256).toBe(
      `SHA256:${Buffer.from('ab'.repeat(32), 'hex').toString('base64').replace(/=+$/, '')}`,
    );
  });

  it('default store follows dataDir; absolute and in-memory sqlite urls stay', () => {
    const doc = baseConfig();
    doc.dataDir = '/var/lib/carebridge';
    expect(loadConfig(tmp.config(doc), {}).store.url).toBe('sqlite:/var/lib/carebridge/carebridge.db');
    doc.store = { url: 'sqlite::memory:' };
    expect(loadConfig(tmp.config(doc), {}).store.url).toBe('sqlite::memory:');
    doc.store = { url: 'sqlite:///srv/cb.db' };
    expect(loadConfig(tmp.config(doc), {}).store.url).toBe('sqlite:/srv/cb.db');
  });

  it('from environment overrides resolve against the working directory', () => {
    const config = loadConfig(tmp.config(baseConfig(), 'conf/gateway.yaml'), {
      CAREBRIDGE_DATA_DIR: 'run/data',
      CAREBRIDGE_STORE_URL: 'sqlite:run/x.db',
    });
    expect(config.dataDir).toBe(resolve(process.cwd(), 'run/data'));
    expect(config.store.url).toBe(`sqlite:${resolve(process.cwd(), 'run/x.db')}`);
  });

  it('a relative config file name is taken from the working directory', () => {
    const file = tmp.config(baseConfig());
    const shortName = relative(process.cwd(), file);
    expect(shortName.startsWith('/')).toBe(false);
    expect(loadConfig(shortName, {}).configFile).toBe(file);
  });
});

describe('defaults', () => {
  it('fill a minimal config', () => {
    const tmp = tempConfigDir();
    try {
      const config = loadConfig(tmp.config({ sources: [{ id: 'in', type: 'mllp', port: 0 }] }), {});
      expect(config.server).toEqual({
        http: { host: '127.0.0.1', port: 8080, bodyLimitBytes: 10485760, rateLimit: { max: 2000, timeWindowMs: 1000 } },
        logLevel: 'info',
        shutdownTimeoutMs: 15000,
      });
      expect(config.store).toMatchObject({ retentionDays: 90, pruneIntervalMinutes: 60 });
      expect(config.redis).toEqual({ prefix: 'carebridge' });
      expect(config.sources[0]).toEqual({
        id: 'in',
        type: 'mllp',
        host: '127.0.0.1',
        port: 0,
        maxMessageBytes: 10485760,
        idleTimeoutMs: 0,
        frameTimeoutMs: 60000,
        maxConnections: 200,
        maxConnectionsPerAddress: 20,
      });
      expect(config).toMatchObject({
        partners: {},
        destinations: [],
        routes: [],
        apiKeys: [],
        consent: { sensitiveFacilities: [], sensitiveServices: [] },
      });
    } finally {
      tmp.cleanup();
    }
  });
});
