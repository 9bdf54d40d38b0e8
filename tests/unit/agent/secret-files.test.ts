// The agent's and the main job's secret files: a file that cannot be read or does not hold what it
// should is refused with an error that names the file, never with what the file holds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatCommandKeyRing, newCommandKey } from '../../../adapters/hypervisor/command-signing.js';
import { MemorySecretStore } from '../../../adapters/secrets/memory-secret-store.js';
import { readCommandKeys, readVncPassword } from '../../../api/agent/secret-files.js';
import { COMMAND_KEYS_REF_FILE, openCommandKeys } from '../../../api/command-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'vmledger-secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected a refusal');
}

describe('secret files', () => {
  it('reads a VNC password, and refuses one too long or with spaces without quoting it', async () => {
    const good = join(dir, 'vnc-good');
    writeFileSync(good, 's3cr3t!\n');
    expect(await readVncPassword(good)).toBe('s3cr3t!');
    for (const [name, password] of [['vnc-long', 'sup3rs3cr3tpassw0rd'], ['vnc-space', 'se cret']] as const) {
      const file = join(dir, name);
      writeFileSync(file, password);
      const message = await refusal(readVncPassword(file));
      expect(message).toContain(file);
      expect(message).not.toContain(password);
      expect(message).not.toContain(password.slice(0, 4));
    }
  });

  it('names a missing file and its error code, nothing more', async () => {
    const missing = join(dir, 'nowhere');
    expect(await refusal(readVncPassword(missing))).toBe(`cannot read the VNC password file ${missing}: ENOENT`);
    expect(await refusal(readCommandKeys(missing))).toBe(`cannot read the command keys file ${missing}: ENOENT`);
  });

  it('refuses a malformed command key file without quoting its keys', async () => {
    const ring = formatCommandKeyRing({ current: newCommandKey() });
    const key = (JSON.parse(ring) as { current: { key: string } }).current.key;
    const file = join(dir, 'keys-broken');
    writeFileSync(file, ring.replace('"current"', '"curent"'));
    const message = await refusal(readCommandKeys(file));
    expect(message).toContain(file);
    expect(message).not.toContain(key);
  });

  it("names the main job's lost key ring by its secret reference only", async () => {
    const data = mkdtempSync(join(dir, 'data-'));
    const secrets = new MemorySecretStore();
    const ring = await openCommandKeys(secrets, data);
    writeFileSync(join(data, COMMAND_KEYS_REF_FILE), 'secret-that-is-gone\n');
    const message = await refusal(openCommandKeys(secrets, data));
    expect(message).toContain('names secret secret-that-is-gone');
    expect(message).not.toContain(ring.current.secret.toString('base64'));
    expect(message).not.toContain(ring.current.secret.toString('base64url'));
  });
});
