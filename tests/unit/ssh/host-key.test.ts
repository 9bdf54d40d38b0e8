import { describe, expect, it } from 'vitest';
import { hostKeyFingerprint, parseHostKeyFingerprint } from '../../../adapters/ssh/host-key.js';

// Public keys with the fingerprints `ssh-keygen -lf` printed for them.
const KEYS = [
  {
    blob: 'AAAAC3NzaC1lZDI1NTE5AAAAINEK5jFgpRtlhXVAjUU8/M3G/XKxxdWyEh+ojnw2CbZ7',
    fingerprint: 'SHA256:PO4a8i/IcKjKetKTvMa6nOFeLTHuOJ72lPA53ZjKFvM',
  },
  {
    blob:
      'AAAAB3NzaC1yc2EAAAADAQABAAABAQCttRrA+TYvTi9VJRcJTstYNVefsnF/U9b+2TuFeB2FVCrNqFcz4vFrxftYXwqeDGSa+OJh+mSmuzdx9YAQiW7cGBy1EP5153O6dY6s9iSW2ogUvumBHTpGO1UW4XJRucp6IDcqnaoQIuVaw7KKff0mwnRcGAXra/k8JtQtDYaOKtj7m99qrbf0UMmwlZdT6AOJJ52zigm8WggAzFwv46evfHGFxsTPI1bJwPIaJBjCD2LonkFCZFhcR5Fan/XKA9FYXFnvmNurRRcSsokfqXhJfcMfPDN/KTiBxiZFq6DuRiH3BK1nbrA1C8ODLrYiKuM5d6YCYWs3Qrqo0UiYoNzb',
    fingerprint: 'SHA256:IGSpSyV04rOEWTlA6XfJxH2FWwTAyArrFE5micQ7Dzw',
  },
];

describe('host key fingerprints', () => {
  it.each(KEYS)('matches what OpenSSH prints ($fingerprint)', ({ blob, fingerprint }) => {
    expect(hostKeyFingerprint(Buffer.from(blob, 'base64'))).toBe(fingerprint);
  });

  it('accepts a pinned fingerprint as OpenSSH prints it, or with padding or surrounding blanks', () => {
    const [key] = KEYS;
    expect(parseHostKeyFingerprint(key!.fingerprint, 'f')).toBe(key!.fingerprint);
    expect(parseHostKeyFingerprint(` ${key!.fingerprint}=\n`, 'f')).toBe(key!.fingerprint);
  });

  it.each([
    ['no prefix', 'PO4a8i/IcKjKetKTvMa6nOFeLTHuOJ72lPA53ZjKFvM'],
    ['MD5', 'MD5:3b:1a:7c:9e:00:11:22:33:44:55:66:77:88:99:aa:bb'],
    ['too short', 'SHA256:PO4a8i/IcKjKetKTvMa6nOFeLTHuOJ72lPA53Zj'],
    ['not base64', 'SHA256:PO4a8i/IcKjKetKTvMa6nOFeLTHuOJ72lPA53ZjK!vM'],
  ])('refuses %s, naming the field', (_what, text) => {
    expect(() => parseHostKeyFingerprint(text, 'hosts[0].hostKeySha256')).toThrow(/hosts\[0\]\.hostKeySha256 must be a SHA-256/);
  });
});
