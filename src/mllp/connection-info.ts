/**
 * What the gateway learns about an MLLP connection: who is on the other end, and — under mutual TLS —
 * which partner certificate they presented (for per-partner identification).
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface PeerCertificateInfo {
  /** Subject common name; the first one when the certificate carries several. */
  subjectCN?: string;
  issuerCN?: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex (Node's format). */
  fingerprint256: string;
  serialNumber: string;
  validFrom: string;
  validTo: string;
}

export interface ConnectionInfo {
  /** Unique per server instance, increasing. */
  id: number;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  tls: boolean;
  /** TLS only: the peer certificate verified against the configured CA. Always false without TLS. */
  authorized: boolean;
  /** TLS only: why the peer certificate did not verify (e.g. when rejectUnauthorized is off). */
  authorizationError?: string;
  /** TLS only: present when the peer sent a certificate. */
  peerCertificate?: PeerCertificateInfo;
  openedAt: Date;
}

export function describeConnection(id: number, socket: Socket): ConnectionInfo {
  const info: ConnectionInfo = {
    id,
    remoteAddress: socket.remoteAddress ?? 'unknown',
    remotePort: socket.remotePort ?? 0,
    localPort: socket.localPort ?? 0,
    tls: socket instanceof TLSSocket,
    authorized: false,
    openedAt: new Date(),
  };
  if (socket instanceof TLSSocket) {
    info.authorized = socket.authorized;
    if (socket.authorizationError) info.authorizationError = String(socket.authorizationError);
    const cert = socket.getPeerCertificate();
    // Node returns an empty object when the peer sent no certificate.
    if (cert && typeof cert.fingerprint256 === 'string' && cert.fingerprint256 !== '') {
      info.peerCertificate = {
        subjectCN: firstValue(cert.subject?.CN),
        issuerCN: firstValue(cert.issuer?.CN),
        fingerprint256: cert.fingerprint256,
        serialNumber: cert.serialNumber,
        validFrom: cert.valid_from,
        validTo: cert.valid_to,
      };
    }
  }
  return info;
}

/** Certificate name attributes are a string, or an array when repeated. */
function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
