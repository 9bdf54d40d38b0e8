import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../../adapters/bus/port.js';
import {
  CommandKeyError,
  CommandVerifier,
  SIGNATURE_HEADERS,
  formatCommandKeyRing,
  newCommandKey,
  parseCommandKeyRing,
  rotateCommandKeys,
  signCommand,
  verifyCommand,
  type CommandKeyRing,
} from '../../../adapters/hypervisor/command-signing.js';

const NOW = new Date('2026-11-21T08:00:00.000Z');
const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const MESSAGE: BusMessage = {
  id: 'e1b2c3d4-0000-4000-8000-000000000001',
  type: 'DestroyDomain',
  body: { type: 'DestroyDomain', commandId: 'j.0', hostId: 'h', instanceId: 'vm', instanceName: 'i-vm', volumes: [{ volumeId: 'v', size: 1 }] },
};
const ring: CommandKeyRing = { current: newCommandKey(NOW) };
/** As the bus hands it over: a parsed copy of the JSON. */
const overTheWire = (message: BusMessage): BusMessage => JSON.parse(JSON.stringify(message)) as BusMessage;
const signedNow = (message: BusMessage = MESSAGE, keys: CommandKeyRing = ring): BusMessage => overTheWire(signCommand(message, keys, NOW, at(60_000)));

describe('command signatures', () => {
  it('accepts a command signed with the current key, in headers beside the untouched command', () => {
    const message = signedNow();
    expect(message.body).toEqual(MESSAGE.body);
    expect(message.headers?.[SIGNATURE_HEADERS.keyId]).toBe(ring.current.id);
    expect(verifyCommand(message, ring, NOW)).toEqual({ ok: true });
  });

  it('accepts the same body whatever the order of its keys', () => {
    const message = signedNow();
    const body = MESSAGE.body as Record<string, BusMessage['body']>;
    const reordered = Object.fromEntries(Object.entries(body).reverse()) as BusMessage['body'];
    expect(verifyCommand({ ...message, body: reordered }, ring, NOW)).toEqual({ ok: true });
  });

  it('refuses an unsigned command', () => {
    expect(verifyCommand(MESSAGE, ring, NOW)).toEqual({ ok: false, reason: 'it is not signed' });
  });

  it.each([
    ['a changed body', (m: BusMessage): BusMessage => ({ ...m, body: { ...(m.body as Record<string, BusMessage['body']>), instanceName: 'i-other' } })],
    ['another message id', (m: BusMessage): BusMessage => ({ ...m, id: 'e1b2c3d4-0000-4000-8000-000000000002' })],
    ['another type', (m: BusMessage): BusMessage => ({ ...m, type: 'StopDomain' })],
    ['a longer validity', (m: BusMessage): BusMessage => ({ ...m, headers: { ...m.headers, [SIGNATURE_HEADERS.expiresAt]: at(3_600_000).toISOString() } })],
    ['a forged signature', (m: BusMessage): BusMessage => ({ ...m, headers: { ...m.headers, [SIGNATURE_HEADERS.signature]: 'AAAA' } })],
  ])('refuses %s', (_what, tamper) => {
    expect(verifyCommand(tamper(signedNow()), ring, NOW)).toMatchObject({ ok: false, reason: 'its signature does not match' });
  });

  it('refuses a command signed with a key it does not have, naming the key', () => {
    const stranger = { current: newCommandKey(NOW) };
    expect(verifyCommand(signedNow(MESSAGE, stranger), ring, NOW)).toEqual({
      ok: false,
      reason: `it is signed with key "${stranger.current.id}", which is not among this agent's keys`,
      unknownKey: stranger.current.id,
    });
  });

  it('accepts the previous key after a rotation, and not the one before it', () => {
    const rotated = rotateCommandKeys(ring, newCommandKey(NOW));
    expect(rotated.previous).toBe(ring.current);
    expect(verifyCommand(signedNow(MESSAGE, ring), rotated, NOW)).toEqual({ ok: true });
    expect(verifyCommand(signedNow(MESSAGE, rotated), rotated, NOW)).toEqual({ ok: true });
    const twice = rotateCommandKeys(rotated, newCommandKey(NOW));
    expect(verifyCommand(signedNow(MESSAGE, ring), twice, NOW)).toMatchObject({ ok: false, unknownKey: ring.current.id });
  });

  it('refuses a command past its deadline, with no grace, and one issued in the future beyond the clock skew', () => {
    const message = signedNow();
    expect(verifyCommand(message, ring, at(60_000 - 1), 60_000)).toEqual({ ok: true });
    // The deadline is the job's: once it passed, the orchestrator has failed the job and given its capacity back.
    expect(verifyCommand(message, ring, at(60_000), 60_000)).toEqual({ ok: false, reason: `it expired at ${at(60_000).toISOString()}` });
    expect(verifyCommand(message, ring, at(60_000 + 30_000), 60_000)).toEqual({ ok: false, reason: `it expired at ${at(60_000).toISOString()}` });
    expect(verifyCommand(message, ring, at(-60_001), 60_000)).toEqual({ ok: false, reason: `it was issued in the future (${NOW.toISOString()})` });
  });

  it('accepts a redelivery of the same command within its validity (commands are idempotent)', () => {
    const message = signedNow();
    expect(verifyCommand(message, ring, at(1_000))).toEqual({ ok: true });
    expect(verifyCommand(overTheWire(message), ring, at(2_000))).toEqual({ ok: true });
  });
});

describe('command key rings', () => {
  it('round-trips through its text form, as kept in the secrets port and in an agent key file', () => {
    const rotated = rotateCommandKeys(ring, newCommandKey(NOW));
    const text = formatCommandKeyRing(rotated);
    const read = parseCommandKeyRing(text, 'keys.json');
    expect(read.current.id).toBe(rotated.current.id);
    expect(read.current.secret.equals(rotated.current.secret)).toBe(true);
    expect(read.previous?.id).toBe(ring.current.id);
    expect(verifyCommand(signedNow(MESSAGE, rotated), read, NOW)).toEqual({ ok: true });
  });

  it.each([
    ['not JSON', '{', 'keys.json is not JSON'],
    ['no current key', '{}', 'keys.json.current must be an object {id, key}'],
    ['a short key', '{"current":{"id":"k1","key":"c2VjcmV0"}}', 'keys.json.current.key must be the base64 of at least 32 random bytes'],
    ['a key id with a newline', `{"current":{"id":"k\\n1","key":"${Buffer.alloc(32, 1).toString('base64')}"}}`, 'keys.json.current.id must be'],
    ['an unknown field', `{"current":{"id":"k1","key":"${Buffer.alloc(32, 1).toString('base64')}"},"next":{}}`, 'keys.json.next is not a field'],
  ])('refuses %s, never quoting a key', (_what, text, message) => {
    expect(() => parseCommandKeyRing(text, 'keys.json')).toThrow(CommandKeyError);
    expect(() => parseCommandKeyRing(text, 'keys.json')).toThrow(message);
    try {
      parseCommandKeyRing(text, 'keys.json');
    } catch (error) {
      expect((error as Error).message).not.toContain('c2VjcmV0');
      expect((error as Error).message).not.toContain(Buffer.alloc(32, 1).toString('base64'));
    }
  });
});

describe('CommandVerifier', () => {
  it('reads its ring again when a command names a key it does not know, at most once per interval', async () => {
    let current: CommandKeyRing = ring;
    let reads = 0;
    const verifier = await CommandVerifier.open(
      async () => {
        reads++;
        return current;
      },
      NOW,
      { reloadAfterMs: 1_000 },
    );
    const rotated = rotateCommandKeys(ring, newCommandKey(NOW));
    const byNewKey = signedNow(MESSAGE, rotated);
    // The orchestrator rotated before the agent's file was replaced: still unknown, read once more.
    expect(await verifier.verify(byNewKey, at(2_000))).toMatchObject({ ok: false, unknownKey: rotated.current.id });
    expect(reads).toBe(2);
    current = rotated;
    // Within the interval the file is not read again, whatever arrives.
    expect(await verifier.verify(byNewKey, at(2_500))).toMatchObject({ ok: false });
    expect(reads).toBe(2);
    expect(await verifier.verify(byNewKey, at(3_000))).toEqual({ ok: true });
    expect(reads).toBe(3);
  });
});
