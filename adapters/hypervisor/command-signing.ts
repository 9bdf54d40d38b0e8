// Commands are signed by the orchestrator and checked by the agents: the broker, and anybody who can
// publish to an agent's queue, cannot make an agent act. The signature is an HMAC-SHA256 over the
// whole message (id, type, body) and its validity, carried in headers so the command itself stays as
// the protocol declares it. Keys rotate: each signature names its key, and an agent accepts the
// current and the previous key of its ring, so agents can be given a new ring before the
// orchestrator signs with its new key.
//
// A validly signed command may arrive more than once within its validity (a redelivery, a resend
// after a restart): commands are idempotent, so a replay needs no defence of its own. A command past
// its validity is refused: the orchestrator has stopped waiting for its answer by then.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BusMessage } from '../bus/port.js';
import type { JsonValue } from '../eventstore/port.js';

export interface CommandKey {
  /** Names the key in each signature; not secret. */
  readonly id: string;
  readonly secret: Buffer;
}

export interface CommandKeyRing {
  /** The key the orchestrator signs with. */
  readonly current: CommandKey;
  /** The key it signed with before the last rotation, still accepted by the agents. */
  readonly previous?: CommandKey;
}

export const SIGNATURE_HEADERS = {
  keyId: 'vmledger-key-id',
  issuedAt: 'vmledger-issued-at',
  expiresAt: 'vmledger-expires-at',
  signature: 'vmledger-signature',
} as const;

/** How far the orchestrator's and an agent's clocks may disagree before a command counts as stale. */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

const MIN_KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const SIGNATURE_VERSION = 'vmledger-command-v1';

export class CommandKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandKeyError';
  }
}

/** A new random key; its id says when it was made, so an operator can tell rings apart. */
export function newCommandKey(now = new Date()): CommandKey {
  return { id: `k${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`, secret: randomBytes(MIN_KEY_BYTES) };
}

/** The ring after a rotation: a new current key, the current one kept as the previous. */
export function rotateCommandKeys(ring: CommandKeyRing, next = newCommandKey()): CommandKeyRing {
  return { current: next, previous: ring.current };
}

/**
 * The ring as text, as kept in the secrets port and in an agent's key file:
 * `{"current":{"id":"…","key":"<base64>"},"previous":{…}}`.
 */
export function formatCommandKeyRing(ring: CommandKeyRing): string {
  const key = (k: CommandKey) => ({ id: k.id, key: k.secret.toString('base64') });
  return `${JSON.stringify({ current: key(ring.current), ...(ring.previous ? { previous: key(ring.previous) } : {}) })}\n`;
}

/** Reads a ring; `where` names its source in errors, which never quote a key. */
export function parseCommandKeyRing(text: string, where: string): CommandKeyRing {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CommandKeyError(`${where} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CommandKeyError(`${where} must be an object with current (and previous) keys`);
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find((name) => name !== 'current' && name !== 'previous');
  if (unknown !== undefined) throw new CommandKeyError(`${where}.${unknown} is not a field of a command key ring (current, previous)`);
  const current = readKey(record['current'], `${where}.current`);
  const previous = record['previous'] === undefined ? undefined : readKey(record['previous'], `${where}.previous`);
  if (previous?.id === current.id) throw new CommandKeyError(`${where}: current and previous keys have the same id ${current.id}`);
  return previous ? { current, previous } : { current };
}

function readKey(value: unknown, where: string): CommandKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CommandKeyError(`${where} must be an object {id, key}`);
  const { id, key } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !KEY_ID.test(id)) throw new CommandKeyError(`${where}.id must be 1-64 of A-Z a-z 0-9 . _ -`);
  const secret = typeof key === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(key) ? Buffer.from(key, 'base64') : Buffer.alloc(0);
  if (secret.length < MIN_KEY_BYTES) throw new CommandKeyError(`${where}.key must be the base64 of at least ${MIN_KEY_BYTES} random bytes`);
  return { id, secret };
}

/** JSON with every object's keys in order: the same body signs the same however it was serialised. */
function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, JsonValue>)[key]!)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function mac(key: CommandKey, message: BusMessage, issuedAt: string, expiresAt: string): Buffer {
  const signed = [SIGNATURE_VERSION, key.id, issuedAt, expiresAt, message.id, message.type, canonicalJson(message.body)].join('\n');
  return createHmac('sha256', key.secret).update(signed).digest();
}

/** The message with its signature: by the ring's current key, valid from `issuedAt` until `expiresAt`. */
export function signCommand(message: BusMessage, ring: CommandKeyRing, issuedAt: Date, expiresAt: Date): BusMessage {
  const issued = issuedAt.toISOString();
  const expires = expiresAt.toISOString();
  return {
    ...message,
    headers: {
      ...message.headers,
      [SIGNATURE_HEADERS.keyId]: ring.current.id,
      [SIGNATURE_HEADERS.issuedAt]: issued,
      [SIGNATURE_HEADERS.expiresAt]: expires,
      [SIGNATURE_HEADERS.signature]: mac(ring.current, message, issued, expires).toString('base64url'),
    },
  };
}

export type Verification = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly unknownKey?: string };

/**
 * Whether the message was signed by a key of the ring and is valid at `now`: issued no later than
 * `now` give or take `skewMs`, and not past its deadline.
 * The body is read as delivered, so any change to it after signing fails the check.
 */
export function verifyCommand(message: BusMessage, ring: CommandKeyRing, now: Date, skewMs = DEFAULT_CLOCK_SKEW_MS): Verification {
  const headers = message.headers ?? {};
  const keyId = headers[SIGNATURE_HEADERS.keyId];
  const issuedAt = headers[SIGNATURE_HEADERS.issuedAt];
  const expiresAt = headers[SIGNATURE_HEADERS.expiresAt];
  const signature = headers[SIGNATURE_HEADERS.signature];
  if (keyId === undefined || issuedAt === undefined || expiresAt === undefined || signature === undefined) {
    return { ok: false, reason: 'it is not signed' };
  }
  const key = [ring.current, ring.previous].find((candidate) => candidate?.id === keyId);
  if (!key) return { ok: false, reason: `it is signed with key ${JSON.stringify(keyId.slice(0, 64))}, which is not among this agent's keys`, unknownKey: keyId };
  const expected = mac(key, message, issuedAt, expiresAt);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'its signature does not match' };
  // Checked only once the signature holds: the times themselves are part of what was signed.
  const issued = Date.parse(issuedAt);
  const expires = Date.parse(expiresAt);
  if (Number.isNaN(issued) || Number.isNaN(expires)) return { ok: false, reason: 'its validity is not readable' };
  if (issued > now.getTime() + skewMs) return { ok: false, reason: `it was issued in the future (${issuedAt})` };
  // No grace past the deadline: it is the job's own, and once it has passed the orchestrator has
  // given up on the command (failed its job, given its capacity back). Carried out later, a start
  // would run a domain for an instance recorded Stopped.
  if (expires <= now.getTime()) return { ok: false, reason: `it expired at ${expiresAt}` };
  return { ok: true };
}

/**
 * An agent's side: its ring, read again when a command names a key the agent does not know (the
 * operator has given it a rotated ring), at most once per `reloadAfterMs`, so a flood of forged
 * messages cannot keep it reading.
 */
export class CommandVerifier {
  private lastRead: number;

  private constructor(
    private ring: CommandKeyRing,
    private readonly load: () => Promise<CommandKeyRing>,
    private readonly options: { readonly skewMs: number; readonly reloadAfterMs: number },
    now: Date,
  ) {
    this.lastRead = now.getTime();
  }

  static async open(load: () => Promise<CommandKeyRing>, now: Date, options: { skewMs?: number; reloadAfterMs?: number } = {}): Promise<CommandVerifier> {
    return new CommandVerifier(await load(), load, { skewMs: options.skewMs ?? DEFAULT_CLOCK_SKEW_MS, reloadAfterMs: options.reloadAfterMs ?? 1_000 }, now);
  }

  async verify(message: BusMessage, now: Date): Promise<Verification> {
    const verdict = verifyCommand(message, this.ring, now, this.options.skewMs);
    if (verdict.ok || verdict.unknownKey === undefined || now.getTime() - this.lastRead < this.options.reloadAfterMs) return verdict;
    this.lastRead = now.getTime();
    this.ring = await this.load();
    return verifyCommand(message, this.ring, now, this.options.skewMs);
  }

  /** The ring as last read: what opens a secret sealed for a message `verify` accepted (sealed-secret.ts). */
  get keys(): CommandKeyRing {
    return this.ring;
  }
}
