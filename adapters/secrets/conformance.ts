// The one conformance suite every SecretStore passes. A store that can be reopened (a durable one)
// also shows that what it was told survives the reopen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SecretStore } from './port.js';

export interface SecretStoreTarget {
  readonly store: SecretStore;
  /** A fresh instance over the same storage; absent for stores that keep nothing. */
  readonly reopen?: () => Promise<SecretStore>;
  readonly dispose: () => Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function describeSecretStoreConformance(label: string, open: () => Promise<SecretStoreTarget>): void {
  describe(`secret store conformance: ${label}`, () => {
    let target: SecretStoreTarget;
    let store: SecretStore;
    beforeEach(async () => {
      target = await open();
      store = target.store;
    });
    afterEach(async () => {
      await target?.dispose();
    });

    it('returns a random UUID as the reference and gives the secret back by it', async () => {
      const ref = await store.put('s3cret-password');
      expect(ref).toMatch(UUID);
      expect(await store.get(ref)).toBe('s3cret-password');
    });

    it('gives each put its own reference, even for the same secret', async () => {
      const a = await store.put('same');
      const b = await store.put('same');
      expect(a).not.toBe(b);
      await store.delete(a);
      expect(await store.get(a)).toBeUndefined();
      expect(await store.get(b)).toBe('same');
    });

    it('keeps secrets exactly, including empty, unicode, quotes and newlines', async () => {
      const secrets = ['', 'pässwörd 🔑', '"quoted"\\back\nslash', 'x'.repeat(10_000)];
      const refs = await Promise.all(secrets.map((s) => store.put(s)));
      for (const [i, ref] of refs.entries()) expect(await store.get(ref)).toBe(secrets[i]);
    });

    it('answers undefined for unknown references', async () => {
      expect(await store.get('9b2f3f5e-0d4c-4c55-9d0e-5b7b2c1d0a11')).toBeUndefined();
      expect(await store.get('')).toBeUndefined();
      expect(await store.get('../../etc/passwd')).toBeUndefined();
    });

    it('deletes a secret, and a repeated or unknown delete is not an error', async () => {
      const ref = await store.put('to-be-deleted');
      await store.delete(ref);
      expect(await store.get(ref)).toBeUndefined();
      await expect(store.delete(ref)).resolves.toBeUndefined();
      await expect(store.delete('0c5d1d6e-8f7a-4a9b-b1c2-d3e4f5a6b7c8')).resolves.toBeUndefined();
    });

    it('refuses a secret that is not a string', async () => {
      await expect(store.put(42 as unknown as string)).rejects.toThrow(/must be a string/);
    });

    it('keeps every one of many concurrent puts and deletes', async () => {
      const refs = await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(`secret-${i}`)));
      expect(new Set(refs).size).toBe(50);
      await Promise.all(refs.filter((_, i) => i % 2 === 0).map((ref) => store.delete(ref)));
      for (const [i, ref] of refs.entries()) expect(await store.get(ref)).toBe(i % 2 === 0 ? undefined : `secret-${i}`);
    });

    it('keeps its secrets across a reopen, where the store is durable', async () => {
      if (!target.reopen) return;
      const kept = await store.put('kept');
      const dropped = await store.put('dropped');
      await store.delete(dropped);
      const reopened = await target.reopen();
      expect(await reopened.get(kept)).toBe('kept');
      expect(await reopened.get(dropped)).toBeUndefined();
    });
  });
}
