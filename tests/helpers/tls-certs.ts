/**
 * Throwaway PKI for TLS tests, generated at test time with the system `openssl` in a temp dir — no
 * private key is ever committed. EC P-256 keys keep generation fast.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertAndKey {
  cert: string;
  key: string;
}

export interface TestPki {
  /** The trusted CA (PEM certificate). */
  ca: string;
  /** Server certificate for 127.0.0.1 / localhost, signed by `ca`. */
  server: CertAndKey;
  /** Client certificate with CN `clientCN`, signed by `ca`. */
  client: CertAndKey;
  clientCN: string;
  /** A client certificate signed by an unrelated CA — must be refused under mutual TLS. */
  untrustedClient: CertAndKey;
  dir: string;
  cleanup: () => void;
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function generateTestPki(clientCN = 'partner-acme'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'carebridge-pki-'));
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

  const makeCa = (name: string, cn: string) =>
    openssl([
      'req',
      '-x509',
      ...KEY_ARGS,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.crt`),
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);

  const makeLeaf = (name: string, cn: string, caName: string, extensions: string): CertAndKey => {
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(['req', ...KEY_ARGS, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/CN=${cn}`]);
    openssl([
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${caName}.crt`),
      '-CAkey',
      path(`${caName}.key`),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '2',
      '-out',
      path(`${name}.crt`),
      '-extfile',
      path(`${name}.ext`),
    ]);
    return { cert: readFileSync(path(`${name}.crt`), 'utf8'), key: readFileSync(path(`${name}.key`), 'utf8') };
  };

  try {
    makeCa('ca', 'carebridge test CA');
    makeCa('rogue-ca', 'untrusted test CA');
    const server = makeLeaf('server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    const client = makeLeaf('client', clientCN, 'ca', 'extendedKeyUsage=clientAuth\n');
    const untrustedClient = makeLeaf('rogue-client', clientCN, 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
    return {
      ca: readFileSync(path('ca.crt'), 'utf8'),
      server,
      client,
      clientCN,
      untrustedClient,
      dir,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
