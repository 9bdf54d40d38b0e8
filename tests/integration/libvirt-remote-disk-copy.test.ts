// Copying an external host's disks to a managed host (issue 16 item 3, the agent's part; not yet
// behind the API): on the libvirt testbed, kvm-a's side of the driver copies the disks of the
// external host's domains into kvm-a's storage as qcow2, in both modes (streamed with nbdkit, and
// CloudStack's convert-then-copy); the copies are byte-identical to their sources (`qemu-img
// compare`), a streamed raw disk stays sparse, and a failed copy leaves nothing on either host.
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostCommands } from '../../adapters/hypervisor/libvirt/host-commands.js';
import { canStream, copyRemoteDisk, removePartialCopies, type DiskCopyMode } from '../../adapters/hypervisor/libvirt/remote-disk-copy.js';
import { SshConnection } from '../../adapters/ssh/ssh-connection.js';
import { readTestbed, testbedFile, type Testbed } from './libvirt/world.js';

const run = promisify(execFile);
const file = testbedFile();
const MiB = 1024 * 1024;

describe.skipIf(file === undefined)('copying an external host\'s disks to kvm-a (needs the libvirt testbed)', () => {
  let testbed: Testbed;
  let connection: SshConnection;
  let kvmA: HostCommands;
  let destDir: string;

  beforeAll(() => {
    testbed = readTestbed(file!);
    if (!testbed.external) throw new Error(`${file} describes no external host: restart the testbed`);
    const host = testbed.hosts.find((candidate) => candidate.name === 'kvm-a')!;
    connection = new SshConnection({ host: host.address, port: host.sshPort, username: host.username, privateKeyPath: host.privateKeyPath, hostKeySha256: host.hostKeySha256 });
    kvmA = new HostCommands(connection, 'kvm-a');
    destDir = host.storagePath;
  });

  afterAll(async () => {
    await connection?.close();
  });

  const external = () => testbed.external!;
  const copyOf = (name: string, format: string, mode: DiskCopyMode, to: string, overrides: { password?: string; sourcePath?: string; username?: string } = {}) =>
    copyRemoteDisk(
      kvmA,
      {
        remote: { host: external().address, port: external().sshPort, username: overrides.username ?? external().username },
        password: overrides.password ?? external().password,
        sourcePath: overrides.sourcePath ?? join(external().storagePath, name),
        sourceFormat: format,
        destinationPath: join(destDir, to),
        tmpPath: external().storagePath,
        timeoutMs: 120_000,
      },
      mode,
    );
  const leftovers = () => [
    ...readdirSync(destDir).filter((name) => name.includes('.part-')),
    ...readdirSync(external().storagePath).filter((name) => name.startsWith('vmledger-import-')),
  ];
  const identical = async (copy: string, source: string, sourceFormat: string) =>
    (await run('qemu-img', ['compare', '-q', '-f', 'qcow2', '-F', sourceFormat, join(destDir, copy), join(external().storagePath, source)]).then(() => 0, (error: { code?: number }) => error.code ?? 1)) === 0;

  it('given kvm-a with nbdkit\'s ssh plugin, then it streams', async () => {
    expect(await canStream(kvmA)).toBe(true);
  });

  for (const mode of ['streamed', 'cloudstack'] as const) {
    it(`given ext-two's qcow2 root and raw data disk, when copied ${mode}, then both are byte-identical qcow2 copies and no temp file is left`, async () => {
      const root = await copyOf('ext-two-root.qcow2', 'qcow2', mode, `copy-${mode}-root.qcow2`);
      const data = await copyOf('ext-two-data.raw', 'raw', mode, `copy-${mode}-data.qcow2`);
      expect([root.mode, data.mode]).toEqual([mode, mode]);
      expect([root.virtualSize, data.virtualSize]).toEqual([testbed.guest.virtualSizeBytes, 32 * MiB]);
      expect(await identical(`copy-${mode}-root.qcow2`, 'ext-two-root.qcow2', 'qcow2')).toBe(true);
      expect(await identical(`copy-${mode}-data.qcow2`, 'ext-two-data.raw', 'raw')).toBe(true);
      // Sparseness kept: 4 MiB written of 32.
      const { stdout } = await run('qemu-img', ['info', '--output=json', join(destDir, `copy-${mode}-data.qcow2`)]);
      expect((JSON.parse(stdout) as { 'actual-size': number })['actual-size']).toBeLessThan(8 * MiB);
      expect(leftovers()).toEqual([]);
    });
  }

  it('given a vmdk disk, when streamed, then the copy is identical', async () => {
    await copyOf('ext-vmdk-root.vmdk', 'vmdk', 'streamed', 'copy-vmdk.qcow2');
    expect(await identical('copy-vmdk.qcow2', 'ext-vmdk-root.vmdk', 'vmdk')).toBe(true);
  });

  for (const mode of ['streamed', 'cloudstack'] as const) {
    it(`given a source that does not exist, when copied ${mode}, then it fails with CloudStack's message and leaves nothing on either host`, async () => {
      await expect(copyOf('x', 'qcow2', mode, `copy-${mode}-missing.qcow2`, { sourcePath: join(external().storagePath, 'no-such-disk.qcow2') })).rejects.toThrow(/^Failed to copy volume due to: /);
      expect(readdirSync(destDir).filter((name) => name.startsWith(`copy-${mode}-missing`))).toEqual([]);
      expect(leftovers()).toEqual([]);
    });

    // Streamed, libssh (in nbdkit) also offers the destination user's own keys, and on the testbed
    // vmhost's key is authorized on every host: only another user is refused there.
    it(`given a refused login, when copied ${mode}, then it fails without naming the password and leaves nothing`, async () => {
      const wrong = `wrong-${mode}-${Math.random().toString(36).slice(2)}`;
      const login = mode === 'streamed' ? { password: wrong, username: 'nobody' } : { password: wrong };
      const failure = await copyOf('ext-two-root.qcow2', 'qcow2', mode, `copy-${mode}-denied.qcow2`, login).then(
        () => undefined,
        (error: unknown) => error as Error & { detail?: string },
      );
      expect(failure?.message).toMatch(/^Failed to copy volume due to: /);
      expect(`${failure?.message} ${failure?.detail ?? ''} ${failure?.stack ?? ''}`.includes(wrong)).toBe(false);
      expect(readdirSync(destDir).filter((name) => name.startsWith(`copy-${mode}-denied`))).toEqual([]);
      expect(leftovers()).toEqual([]);
    });
  }

  it('given partial copies an earlier run left for a volume, when removed before copying again, then they go and nothing else does', async () => {
    for (const name of ['vol-1.qcow2.part-0a1b2c3d', 'vol-1.qcow2.part-9f8e7d6c', 'vol-1.qcow2', 'vol-2.qcow2.part-11111111']) writeFileSync(join(destDir, name), 'x');
    await removePartialCopies(kvmA, [join(destDir, 'vol-1.qcow2'), join(destDir, 'vol-3.qcow2')]);
    expect(readdirSync(destDir).filter((name) => name.startsWith('vol-')).sort()).toEqual(['vol-1.qcow2', 'vol-2.qcow2.part-11111111']);
    await run('rm', ['-f', join(destDir, 'vol-1.qcow2'), join(destDir, 'vol-2.qcow2.part-11111111')]);
  });
});
