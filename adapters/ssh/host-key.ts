// Host key pinning. The operator copies the fingerprint OpenSSH prints (`ssh-keygen -lf key.pub`,
// `SHA256:` and the unpadded base64 of the SHA-256 of the key blob), and a connection to a host that
// presents any other key is refused: an agent that sends passwords and virsh commands must never talk
// to an impostor, and trust-on-first-use would have nowhere durable to remember the key.
import { createHash } from 'node:crypto';

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/** The OpenSSH SHA-256 fingerprint of a host key in SSH wire format (what ssh2 hands a hostVerifier). */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Checks a pinned fingerprint's form and returns it as OpenSSH prints it (a trailing `=` some tools add
 * is dropped), so it compares equal to `hostKeyFingerprint`. Throws a RangeError naming `field`.
 */
export function parseHostKeyFingerprint(text: string, field: string): string {
  const match = FINGERPRINT.exec(text.trim());
  if (!match) {
    throw new RangeError(`${field} must be a SHA-256 host key fingerprint as OpenSSH prints it (SHA256: and 43 base64 characters)`);
  }
  return `SHA256:${match[1]}`;
}
