import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSecretStoreConformance } from '../../adapters/secrets/conformance.js';
import { FileSecretStore, SECRETS_FILE_NAME } from '../../adapters/secrets/file-secret-store.js';
import { MemorySecretStore } from '../../adapters/secrets/memory-secret-store.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'vmledger-secrets-'));

describeSecretStoreConformance('memory', async () => ({ store: new MemorySecretStore(), dispose: async () => undefined }));

describeSecretStoreConformance('file', async () => {
  const dir = tempDir();
  return {
    store: await FileSecretStore.open(dir),
    reopen: () => FileSecretStore.open(dir),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('file secret store specifics', () => {
  const withDir = async (body: (dir: string) => Promise<void>) => {
    const dir = tempDir();
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const modeOf = (file: string) => statSync(file).mode & 0o777;

  it('writes one JSON file readable by its owner only (0600)', () =>
    withDir(async (dir) => {
      const store = await FileSecretStore.open(dir);
      const ref = await store.put('hunter2');
      const file = join(dir, SECRETS_FILE_NAME);
      expect(modeOf(file)).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, secrets: { [ref]: 'hunter2' } });
    }));

  it('survives a reopen and removes deleted secrets from the file', () =>
    withDir(async (dir) => {
      const first = await FileSecretStore.open(dir);
      const a = await first.put('alpha');
      const b = await first.put('beta');
      await first.delete(a);
      expect(readFileSync(join(dir, SECRETS_FILE_NAME), 'utf8')).not.toContain('alpha');
      const second = await FileSecretStore.open(dir);
      expect(await second.get(a)).toBeUndefined();
      expect(await second.get(b)).toBe('beta');
    }));

  it('leaves no temporary file behind and keeps 0600 after many rewrites', () =>
    withDir(async (dir) => {
      const store = await FileSecretStore.open(dir);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`s${i}`)));
      expect(readdirSync(dir)).toEqual([SECRETS_FILE_NAME]);
      expect(modeOf(join(dir, SECRETS_FILE_NAME))).toBe(0o600);
    }));

  it('tightens a widened file back to 0600 when opened', () =>
    withDir(async (dir) => {
      const file = join(dir, SECRETS_FILE_NAME);
      writeFileSync(file, JSON.stringify({ version: 1, secrets: { r: 'x' } }));
      chmodSync(file, 0o644);
      const store = await FileSecretStore.open(dir);
      expect(modeOf(file)).toBe(0o600);
      expect(await store.get('r')).toBe('x');
    }));

  it('refuses to open a file that is not a secrets file rather than overwrite it', () =>
    withDir(async (dir) => {
      writeFileSync(join(dir, SECRETS_FILE_NAME), 'not json');
      await expect(FileSecretStore.open(dir)).rejects.toThrow(/not valid JSON/);
      writeFileSync(join(dir, SECRETS_FILE_NAME), JSON.stringify({ version: 2, secrets: {} }));
      await expect(FileSecretStore.open(dir)).rejects.toThrow(/format version 2/);
    }));

  it('creates the data directory when it does not exist yet', () =>
    withDir(async (dir) => {
      const nested = join(dir, 'a', 'b');
      const store = await FileSecretStore.open(nested);
      const ref = await store.put('deep');
      expect(await (await FileSecretStore.open(nested)).get(ref)).toBe('deep');
    }));
});
