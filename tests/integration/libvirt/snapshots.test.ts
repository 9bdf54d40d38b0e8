// VM snapshots on a real libvirt 9.0 / QEMU 7.2 host of the testbed, checked with the host's own tools
// (virsh, qemu-img, qemu-io): what the driver says it did must be what the host has. Blank-disk
// domains: a snapshot needs no guest OS, and reading a pattern back proves the disk was reverted.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectDriverError } from '../../../adapters/hypervisor/conformance.js';
import { libvirtTestbedLocation } from '../../testbed/libvirt-testbed.js';
import { openSnapshotBed, snapshotNameOf, type SnapshotBed } from '../../testbed/snapshot-bed.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const location = libvirtTestbedLocation();
const memory = { kind: 'DiskAndMemory', quiesce: false, description: 'libvirt snapshot test' } as const;
// A description a careless command line would read as an option.
const diskOnly = { kind: 'Disk', quiesce: false, description: "--help 'quoted' $(id)" } as const;

describe.skipIf(!location.present)('VM snapshots on the libvirt testbed', () => {
  let bed: SnapshotBed;
  beforeAll(() => {
    bed = openSnapshotBed(location.path);
  });
  afterAll(async () => {
    await bed?.dispose();
  });

  const virsh = (...args: string[]) => bed.inHost(['virsh', '-c', 'qemu:///system', ...args]);
  const qemuImgSnapshots = async (path: string) => (await bed.inHost(['qemu-img', 'snapshot', '-U', '-l', path])).stdout;
  const qemuIo = (path: string, command: string) => bed.inHost(['qemu-io', '-f', 'qcow2', '-c', command, path]);

  it('reports memory and stopped-disk snapshots, not disk-only ones of running domains', async () => {
    const { capabilities } = await bed.driver.hostInfo();
    expect(capabilities.filter((capability) => capability.startsWith('snapshot.'))).toEqual(['snapshot.memory', 'snapshot.disk.stopped']);
  });

  it('a running domain: memory snapshot, forced off, revert → running again from the snapshot', async () => {
    const spec = bed.newSpec();
    await bed.driver.startDomain(spec);
    const name = snapshotNameOf(spec, 1);
    const taken = await bed.driver.createDomainSnapshot(spec, name, memory);
    // The size is the VM state qemu stored, as qemu-img reports it.
    const info = JSON.parse((await bed.inHost(['qemu-img', 'info', '-U', '--output=json', bed.diskPath(spec)])).stdout) as { snapshots: Array<{ name: string; 'vm-state-size': number }> };
    expect(taken).toEqual({ powerState: 'running', snapshot: { name, sizeBytes: info.snapshots.find((s) => s.name === name)!['vm-state-size'] } });
    expect(taken.snapshot.sizeBytes).toBeGreaterThan(0);
    expect((await virsh('snapshot-info', '--domain', spec.instanceName, '--snapshotname', name)).stdout).toMatch(/State:\s+running[\s\S]*Location:\s+internal/);

    await bed.driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
    expect(await bed.driver.revertDomainSnapshot(spec, name, 'DiskAndMemory')).toBe('running');
    expect((await virsh('domstate', '--domain', spec.instanceName)).stdout.trim()).toBe('running');
    expect((await virsh('snapshot-current', '--domain', spec.instanceName, '--name')).stdout.trim()).toBe(name);
  });

  it('a stopped domain: pattern, disk snapshot, overwrite, revert → the first pattern is back', async () => {
    const spec = bed.newSpec();
    await bed.driver.startDomain(spec);
    await bed.driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
    const disk = bed.diskPath(spec, 1);
    await qemuIo(disk, 'write -P 0xab 0 1M');
    const name = snapshotNameOf(spec, 2);
    expect((await bed.driver.createDomainSnapshot(spec, name, diskOnly)).powerState).toBe('stopped');
    expect((await virsh('snapshot-dumpxml', '--domain', spec.instanceName, '--snapshotname', name)).stdout).toContain('<description>--help &apos;quoted&apos; $(id)</description>');
    await qemuIo(disk, 'write -P 0xcd 0 1M');
    expect((await qemuIo(disk, 'read -P 0xcd 0 1M')).stdout).not.toContain('Pattern verification failed');

    expect(await bed.driver.revertDomainSnapshot(spec, name, 'Disk')).toBe('stopped');
    const read = await qemuIo(disk, 'read -P 0xab 0 1M');
    expect(read.stdout).not.toContain('Pattern verification failed');
    expect(read.stdout).toContain('read 1048576/1048576 bytes');
  });

  it('refuses a disk-only snapshot of a running domain up front, saying why and what to use', async () => {
    const spec = bed.newSpec();
    await bed.driver.startDomain(spec);
    const refused = await expectDriverError(bed.driver.createDomainSnapshot(spec, snapshotNameOf(spec, 3), diskOnly), 'UNSUPPORTED');
    expect(refused.message).toContain('which its libvirt cannot revert; take a snapshot with memory, or stop the instance first');
    expect((await virsh('snapshot-list', '--domain', spec.instanceName, '--name')).stdout.trim()).toBe('');
  });

  it('delete → neither virsh nor the qcow2 has the snapshot; deleting again succeeds', async () => {
    const spec = bed.newSpec();
    await bed.driver.startDomain(spec);
    const name = snapshotNameOf(spec, 4);
    await bed.driver.createDomainSnapshot(spec, name, memory);
    expect(await qemuImgSnapshots(bed.diskPath(spec))).toContain(name);

    expect(await bed.driver.deleteDomainSnapshot(spec, name)).toBe('running');
    expect((await virsh('snapshot-list', '--domain', spec.instanceName, '--name')).stdout.trim()).toBe('');
    for (const index of [0, 1]) expect(await qemuImgSnapshots(bed.diskPath(spec, index))).not.toContain(name);
    expect(await bed.driver.deleteDomainSnapshot(spec, name)).toBe('running');
  });

  it("keeps a domain's snapshots across a libvirtd restart", async () => {
    const spec = bed.newSpec();
    await bed.driver.startDomain(spec);
    const [first, second] = [5, 6].map((n) => snapshotNameOf(spec, n)) as [string, string];
    await bed.driver.createDomainSnapshot(spec, first, memory);
    await bed.driver.createDomainSnapshot(spec, second, memory);
    const before = await bed.driver.listDomainSnapshots(spec.instanceName);

    // The testbed host's libvirtd, ended and started again in its namespace (its QEMU keeps running).
    const pidFile = `${bed.host.storagePath}/../run/libvirtd.pid`;
    await bed.inHost(['sh', '-c', `kill "$(cat '${pidFile}')"; while kill -0 "$(cat '${pidFile}')" 2>/dev/null; do sleep 0.1; done; libvirtd -d -p '${pidFile}'`]);
    let after: Awaited<ReturnType<typeof bed.driver.listDomainSnapshots>> | undefined;
    for (let i = 0; i < 100 && after === undefined; i++) {
      after = await bed.driver.listDomainSnapshots(spec.instanceName).catch(() => undefined);
      if (after === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(after).toEqual(before);
    expect(before).toEqual([
      { name: first, kind: 'DiskAndMemory', parent: null, current: false },
      { name: second, kind: 'DiskAndMemory', parent: first, current: true },
    ]);
    expect(await bed.driver.revertDomainSnapshot(spec, first, 'DiskAndMemory')).toBe('running');
  });

  it('destroy with snapshots removes the domain, its snapshot metadata and its disks', async () => {
    const spec = bed.newSpec();
    await bed.driver.startDomain(spec);
    await bed.driver.createDomainSnapshot(spec, snapshotNameOf(spec, 7), memory);
    await bed.driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
    await bed.driver.createDomainSnapshot(spec, snapshotNameOf(spec, 8), diskOnly);

    await bed.driver.destroyDomain(spec, spec.volumes);
    expect((await virsh('list', '--all', '--name')).stdout).not.toContain(spec.instanceName);
    const disks = await bed.inHost(['sh', '-c', `ls '${bed.host.storagePath}'`]);
    for (const volume of spec.volumes) expect(disks.stdout).not.toContain(volume.volumeId);
    expect(await bed.driver.listDomainSnapshots(spec.instanceName)).toEqual([]);
    // Defined again from its spec, it starts with none.
    await bed.driver.startDomain(spec);
    expect(await bed.driver.listDomainSnapshots(spec.instanceName)).toEqual([]);
  });
});
