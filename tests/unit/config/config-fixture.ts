/** Temp folders with config files for the config tests; removed by cleanup(). */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

export const DUMMY_KEY_PEM = '-----BEGIN PRIVATE KEY-----\nTUlJQ2R1bW15\n-----END PRIVATE KEY-----\n';
export const DUMMY_CERT_PEM = '-----BEGIN CERTIFICATE-----\nTUlJQ2R1bW15\n-----END CERTIFICATE-----\n';
export const SHA256_OF_DEMO = 'sha256:' + 'ab'.repeat(32);

export interface TempConfigDir {
  dir: string;
  /** Writes a file (creating folders) and returns its absolute path. */
  write(rel: string, content: string): string;
  /** Writes `doc` as YAML (or a raw string) to `rel` (default gateway.yaml). */
  config(doc: unknown, rel?: string): string;
  cleanup(): void;
}

export function tempConfigDir(): TempConfigDir {
  const dir = mkdtempSync(join(tmpdir(), 'carebridge-config-'));
  const write = (rel: string, content: string) => {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  };
  return {
    dir,
    write,
    config: (doc, rel = 'gateway.yaml') => write(rel, typeof doc === 'string' ? doc : stringify(doc)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A small valid config that the error cases break one key at a time. */
export function baseConfig(): Record<string, any> {
  return {
    server: { http: { port: 18080 } },
    partners: {
      acme: { name: 'Acme ACO', kind: 'aco', profile: 'example-aco', senders: ['EPICADT^MGH'] },
      'cp-one': { name: 'CP One', kind: 'cp', destinations: { adt: 'hook' } },
    },
    sources: [
      { id: 'mllp-in', type: 'mllp', partner: 'acme', port: 12575 },
      { id: 'web', type: 'http' },
    ],
    destinations: [{ id: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'hook-secret-value' }],
    routes: [{ id: 'adt', match: { events: ['A01'] }, to: ['hook'] }],
    apiKeys: [{ id: 'admin', hash: SHA256_OF_DEMO, partners: ['*'] }],
  };
}

/** A valid SFTP source for cases that need one. */
export function sftpSource(): Record<string, any> {
  return {
    id: 'acme-files',
    type: 'sftp',
    partner: 'acme',
    host: '127.0.0.1',
    username: 'carebridge',
    privateKeyEnv: 'ACME_SFTP_KEY',
    hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    remoteDir: '/outbound',
    format: 'member-csv',
  };
}
