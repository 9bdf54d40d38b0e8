// A secret on its way to an agent (issue 16 item 5): the password of an external host the agent must
// log in to. The log and the events only ever hold the secrets port's reference; the message that asks
// the agent carries the secret sealed (AES-256-GCM) under a key both ends already share, derived from
// the command-signing ring, and bound to that one message (its id is the additional data), so a
// sealed secret copied into another message does not open. Whoever reads the bus sees ciphertext.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { CommandKey, CommandKeyRing } from './command-signing.js';

export interface SealedSecret {
  /** The ring key the sealing key was derived from (not secret). */
  readonly keyId: string;
  /** base64url: 12-byte nonce, then ciphertext, then the 16-byte tag. */
  readonly box: string;
}

const INFO = Buffer.from('vmledger-sealed-secret-v1');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function sealingKey(key: CommandKey): Buffer {
  return Buffer.from(hkdfSync('sha256', key.secret, Buffer.alloc(0), INFO, 32));
}

export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

/** Seals `secret` with the ring's current key for the message named `boundTo`. */
export function sealSecret(secret: string, ring: CommandKeyRing, boundTo: string): SealedSecret {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(ring.current), nonce);
  cipher.setAAD(Buffer.from(boundTo));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { keyId: ring.current.id, box: Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url') };
}

/** The secret, if a key of the ring sealed it for `boundTo`; the error never quotes the box. */
export function openSecret(sealed: SealedSecret, ring: CommandKeyRing, boundTo: string): string {
  const key = [ring.current, ring.previous].find((candidate) => candidate?.id === sealed.keyId);
  if (!key) throw new SealedSecretError(`the secret is sealed with key ${JSON.stringify(sealed.keyId.slice(0, 64))}, which is not among this agent's keys`);
  const raw = Buffer.from(sealed.box, 'base64url');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SealedSecretError('the sealed secret is truncated');
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(key), raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedSecretError('the sealed secret does not open: it was altered, or sealed for another message');
  }
}
