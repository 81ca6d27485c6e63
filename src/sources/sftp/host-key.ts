import { createHash } from 'node:crypto';

/** OpenSSH's fingerprint form: `SHA256:` + unpadded base64 of the SHA-256 of the public key blob. */
export function hostKeyFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The server presented a different host key than the one pinned in the config. */
export class HostKeyMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `host key mismatch: the server presented ${actual} but ${expected} is pinned (hostKeySha256); ` +
        'refusing to connect. If the partner rotated its key, confirm the new fingerprint with them and update the config.',
    );
    this.name = 'HostKeyMismatchError';
  }
}

/**
 * A `hostVerifier` for ssh2 that accepts only the pinned key. ssh2 passes the raw key blob (no
 * `hostHash` set) and turns `false` into a generic handshake failure; `seen()` keeps what the
 * server presented so the caller can raise a HostKeyMismatchError with both fingerprints.
 */
export function pinnedHostVerifier(expected: string): { verify: (key: Buffer) => boolean; mismatch: () => HostKeyMismatchError | null } {
  let presented: string | null = null;
  return {
    verify(key) {
      presented = hostKeyFingerprint(key);
      return presented === expected;
    },
    mismatch: () => (presented !== null && presented !== expected ? new HostKeyMismatchError(expected, presented) : null),
  };
}
