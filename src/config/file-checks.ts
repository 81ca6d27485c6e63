/**
 * Checks against the machine: TLS and SSH key files readable, key variables set, mapping folders
 * present. Failing here at start beats failing on the first connection at 3 a.m. File contents
 * are only sniffed for a PEM label (a swapped key/cert is a common mistake), never reported.
 */
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatKeyPath, type ConfigIssue, type KeyPath } from './errors.js';
import type { Env } from './interpolate.js';
import type { GatewayConfig } from './types.js';

type Issues = ConfigIssue[];
type Pem = 'key' | 'cert' | 'ca' | 'ssh-key';

const PEM_LABEL: Record<Pem, RegExp> = {
  key: /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  cert: /-----BEGIN CERTIFICATE-----/,
  ca: /-----BEGIN CERTIFICATE-----/,
  'ssh-key': /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
};

const PEM_WHAT: Record<Pem, string> = {
  key: 'a PEM private key',
  cert: 'a PEM certificate',
  ca: 'a PEM CA certificate bundle',
  'ssh-key': 'a private key (PEM or OpenSSH format)',
};

function readableFile(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`;
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code ?? 'error'})`;
  }
}

/** Only the head matters: keys and bundles are small, but a wrong path could name a huge file. */
function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('latin1', 0, n);
  } finally {
    closeSync(fd);
  }
}

function checkPemFile(issues: Issues, path: KeyPath, file: string | undefined, kind: Pem): void {
  if (file === undefined) return;
  const problem = readableFile(file);
  if (problem) {
    issues.push({ key: formatKeyPath(path), problem });
    return;
  }
  const head = readHead(file);
  if (!PEM_LABEL[kind].test(head)) issues.push({ key: formatKeyPath(path), problem: `${file} is not ${PEM_WHAT[kind]}` });
}

function checkTls(issues: Issues, path: KeyPath, tls: { key?: string; cert?: string; ca?: string } | undefined): void {
  if (!tls) return;
  checkPemFile(issues, [...path, 'key'], tls.key, 'key');
  checkPemFile(issues, [...path, 'cert'], tls.cert, 'cert');
  checkPemFile(issues, [...path, 'ca'], tls.ca, 'ca');
}

function checkSshKey(issues: Issues, path: KeyPath, item: { privateKey?: string; privateKeyEnv?: string }, env: Env): void {
  checkPemFile(issues, [...path, 'privateKey'], item.privateKey, 'ssh-key');
  if (item.privateKeyEnv !== undefined && !env[item.privateKeyEnv]) {
    issues.push({ key: formatKeyPath([...path, 'privateKeyEnv']), problem: `environment variable ${item.privateKeyEnv} is not set` });
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function checkMappings(issues: Issues, config: GatewayConfig): void {
  const dir = config.mappings.dir;
  // Only the user's partners live there; the shipped base profiles and concept maps are layered under them.
  if (!isDirectory(dir)) {
    issues.push({ key: 'mappings.dir', problem: `${dir} is not a folder` });
    return;
  }
  for (const [partnerId, partner] of Object.entries(config.partners)) {
    if (partner.profile !== undefined && !isDirectory(join(dir, 'partners', partner.profile))) {
      issues.push({
        key: formatKeyPath(['partners', partnerId, 'profile']),
        problem: `no mapping overlay ${join(dir, 'partners', partner.profile)}`,
      });
    }
  }
}

export function fileChecks(config: GatewayConfig, env: Env): ConfigIssue[] {
  const issues: Issues = [];
  checkTls(issues, ['server', 'http', 'tls'], config.server.http.tls);
  config.sources.forEach((s, i) => {
    if (s.type === 'mllp') checkTls(issues, ['sources', i, 'tls'], s.tls);
    if (s.type === 'sftp') checkSshKey(issues, ['sources', i], s, env);
  });
  // Whatever its type, a destination's `tls` block and SSH key are local files or variables.
  config.destinations.forEach((d, i) => {
    if ('tls' in d) checkTls(issues, ['destinations', i, 'tls'], d.tls);
    if ('privateKey' in d || 'privateKeyEnv' in d) checkSshKey(issues, ['destinations', i], d, env);
  });
  checkMappings(issues, config);
  return issues;
}
