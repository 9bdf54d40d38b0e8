import { describe, expect, it } from 'vitest';
import { LibvirtConfigError, parseLibvirtHostConfig } from '../../../adapters/hypervisor/libvirt/config.js';

const FINGERPRINT = 'SHA256:PO4a8i/IcKjKetKTvMa6nOFeLTHuOJ72lPA53ZjKFvM';

const valid = {
  hostId: '6b0f3c1e-3f43-4a55-9d0e-1c2b3a4d5e6f',
  address: 'kvm-01.example.org',
  sshPort: 2222,
  username: 'vmhost',
  privateKeyPath: '/etc/vmledger/id_ed25519',
  hostKeySha256: FINGERPRINT,
  domainType: 'kvm',
  storagePath: '/mnt/primary/',
  migrationUri: 'qemu+ssh://vmhost@kvm-01.example.org/system',
  migrationAddress: '10.0.0.11',
  nic: { mode: 'bridge', bridge: 'cloudbr0' },
};

const parse = (value: unknown) => parseLibvirtHostConfig(value, 'agent.json hosts[0]');

describe('parseLibvirtHostConfig', () => {
  it('reads a full configuration, dropping a trailing slash from the storage path', () => {
    const untagged = '0d5e3f1a-2b4c-4d6e-8f01-23456789abcd';
    expect(
      parse({
        ...valid,
        password: 'secret',
        vncListen: '0.0.0.0',
        vncPasswordFile: '/etc/vmledger/vnc-password',
        sharedStoragePaths: ['/mnt/kvm-02/'],
        nic: { ...valid.nic, untaggedNetworkIds: [untagged] },
      }),
    ).toEqual({
      ...valid,
      password: 'secret',
      storagePath: '/mnt/primary',
      sharedStoragePaths: ['/mnt/kvm-02'],
      vncListen: '0.0.0.0',
      vncPasswordFile: '/etc/vmledger/vnc-password',
      nic: { mode: 'bridge', bridge: 'cloudbr0', untaggedNetworkIds: [untagged] },
      remoteCopyMode: 'auto',
      conversion: { virtV2v: 'virt-v2v', env: { LIBGUESTFS_BACKEND: 'direct' } },
    });
  });

  it('takes virt-v2v\'s command and environment, and refuses what could not be a command or a variable', () => {
    const conversion = { virtV2v: '/opt/v2v/bin/virt-v2v', env: { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' } };
    expect(parse({ ...valid, conversion })).toMatchObject({ conversion });
    expect(() => parse({ ...valid, conversion: { virtV2v: 'virt-v2v; reboot' } })).toThrow(/conversion.virtV2v must be a command name or an absolute path/);
    expect(() => parse({ ...valid, conversion: { env: { 'LD_PRELOAD=x': 'y' } } })).toThrow(/is not an environment variable name/);
    expect(() => parse({ ...valid, conversion: { env: { A: 'x\ny' } } })).toThrow(/conversion.env.A must be a non-empty string/);
    expect(() => parse({ ...valid, conversion: { virtv2v: 'x' } })).toThrow(/conversion.virtv2v is not a conversion setting/);
  });

  it.each(['auto', 'streamed', 'cloudstack'] as const)('takes remoteCopyMode %s, and refuses another', (remoteCopyMode) => {
    expect(parse({ ...valid, remoteCopyMode })).toMatchObject({ remoteCopyMode });
    expect(() => parse({ ...valid, remoteCopyMode: 'scp' })).toThrow(/remoteCopyMode must be auto, streamed or cloudstack/);
  });

  it('defaults to no shared storage and no untagged network', () => {
    expect(parse(valid)).toMatchObject({ sharedStoragePaths: [], nic: { mode: 'bridge', bridge: 'cloudbr0', untaggedNetworkIds: [] } });
  });

  it.each(['127.0.0.1', '127.1.2.3', '::1', 'localhost'])('keeps VNC on loopback address %s without a password', (vncListen) => {
    expect(parse({ ...valid, vncListen })).toMatchObject({ vncListen });
  });

  it('defaults the SSH port, the domain type and the VNC address', () => {
    const { sshPort: _port, domainType: _type, ...rest } = valid;
    expect(parse(rest)).toMatchObject({ sshPort: 22, domainType: 'kvm', vncListen: '127.0.0.1' });
  });

  it('takes a user-mode NIC configuration and password-only login', () => {
    const { privateKeyPath: _key, ...rest } = valid;
    expect(parse({ ...rest, password: 'pw', domainType: 'qemu', nic: { mode: 'user' } })).toMatchObject({
      password: 'pw',
      domainType: 'qemu',
      nic: { mode: 'user' },
    });
  });

  it.each([
    ['not an object', [], /agent\.json hosts\[0\] must be an object/],
    ['a missing hostId', { ...valid, hostId: undefined }, /hosts\[0\]\.hostId must be a non-empty string/],
    ['a port out of range', { ...valid, sshPort: 70000 }, /hosts\[0\]\.sshPort must be a TCP port/],
    ['a port as text', { ...valid, sshPort: '22' }, /hosts\[0\]\.sshPort must be a TCP port/],
    ['no credentials', { ...valid, privateKeyPath: undefined }, /needs password or privateKeyPath/],
    ['a relative key path', { ...valid, privateKeyPath: 'id_ed25519' }, /privateKeyPath must be an absolute path/],
    ['a bad fingerprint', { ...valid, hostKeySha256: 'ab:cd' }, /hosts\[0\]\.hostKeySha256 must be a SHA-256 host key fingerprint/],
    ['an unknown domain type', { ...valid, domainType: 'xen' }, /hosts\[0\]\.domainType must be "kvm"/],
    ['a relative storage path', { ...valid, storagePath: 'images' }, /hosts\[0\]\.storagePath must be an absolute path/],
    ['a storage path with ..', { ...valid, storagePath: '/mnt/../etc' }, /storagePath must not contain '\.\.'/],
    ['a migration URI without scheme', { ...valid, migrationUri: 'kvm-01' }, /hosts\[0\]\.migrationUri must be a libvirt connection URI/],
    ['an address with a space', { ...valid, migrationAddress: '10.0.0.1 x' }, /hosts\[0\]\.migrationAddress must be a host name or IP address/],
    ['a NIC mode of another driver', { ...valid, nic: { mode: 'vswitch' } }, /hosts\[0\]\.nic\.mode must be "user" or "bridge"/],
    ['a bridge name too long', { ...valid, nic: { mode: 'bridge', bridge: 'a-very-long-bridge-name' } }, /hosts\[0\]\.nic\.bridge must be a network interface name/],
    ['a bridge without name', { ...valid, nic: { mode: 'bridge' } }, /hosts\[0\]\.nic\.bridge must be the name of a bridge/],
    ['a misspelt field', { ...valid, vncListn: '0.0.0.0' }, /hosts\[0\]\.vncListn is not a libvirt host setting/],
    // A console without a password, reachable from the network, is the guest's keyboard for anybody.
    ['VNC on the network without a password', { ...valid, vncListen: '0.0.0.0' }, /hosts\[0\]\.vncListen 0\.0\.0\.0 is not a loopback address: the VNC consoles have no password, so set vncPasswordFile/],
    ['VNC on a host address without a password', { ...valid, vncListen: '10.0.0.11' }, /hosts\[0\]\.vncListen 10\.0\.0\.11 is not a loopback address/],
    ['a relative VNC password file', { ...valid, vncPasswordFile: 'vnc' }, /hosts\[0\]\.vncPasswordFile must be an absolute path/],
    ['an untagged network that is no id', { ...valid, nic: { mode: 'bridge', bridge: 'br0', untaggedNetworkIds: ['all'] } }, /hosts\[0\]\.nic\.untaggedNetworkIds must be a list of network ids/],
    ['a relative shared storage path', { ...valid, sharedStoragePaths: ['images'] }, /hosts\[0\]\.sharedStoragePaths\[0\] must be an absolute path/],
    ['a control character', { ...valid, username: 'vm\nhost' }, /hosts\[0\]\.username must be a user name/],
  ])('refuses %s, naming the field', (_what, value, message) => {
    const attempt = () => parse(value);
    expect(attempt).toThrow(LibvirtConfigError);
    expect(attempt).toThrow(message);
  });

  it('never repeats a password in an error', () => {
    const secret = 'correct horse battery staple';
    const attempt = () => parse({ ...valid, password: secret, sshPort: -1 });
    expect(attempt).toThrow(LibvirtConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
    expect(() => parse({ ...valid, password: 42 })).toThrow(/hosts\[0\]\.password must be a non-empty string$/);
  });
});
